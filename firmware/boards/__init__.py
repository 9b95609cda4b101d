# One file per board: its pins and parts. make(hw) wires the parts on a
# hardware layer: openpuck_fw.hw on a real board, boards.sim_hw (models)
# in the virtual puck.
