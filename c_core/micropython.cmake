# The C detector as the MicroPython user C module `opdetect` (CMake-based
# ports: esp32, rp2). Build a firmware with it:
#   make -C ports/rp2 USER_C_MODULES=/path/to/openpuck/c_core/micropython.cmake
add_library(usermod_opdetect INTERFACE)

target_sources(usermod_opdetect INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/micropython/opdetect.c
    ${CMAKE_CURRENT_LIST_DIR}/op_detect.c
)

target_include_directories(usermod_opdetect INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}
)

target_link_libraries(usermod INTERFACE usermod_opdetect)
