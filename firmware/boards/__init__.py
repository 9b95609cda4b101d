# One file per board, data only: NAME, ARCH, PLATFORM, PARTS and their pins.
# make(hw) wires the parts (openpuck_fw.board.wire) on a hardware layer:
# openpuck_fw.hw on a real board, boards.sim_hw (models) in the virtual puck.
