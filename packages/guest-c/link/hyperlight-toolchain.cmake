# CMake toolchain file for hyperlight-ts C guests:
#
#   cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE=node_modules/@hyperlight-ts/guest-c/link/hyperlight-toolchain.cmake
#
# Every executable the project builds is then a guest ELF: the C compiler is
# the guest compiler driver hyperlight-cc, which adds the guest flags and
# libraries itself (see the package README). Set HYPERLIGHT_CC in the
# environment to choose the real compiler (default gcc).

# A guest is not a Linux program: "Generic" tells CMake there is no shared
# linking (add_library(... SHARED) and BUILD_SHARED_LIBS fall back to static
# archives) and that what it builds cannot run on this machine (no try_run).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

get_filename_component(HYPERLIGHT_GUEST_C_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(CMAKE_C_COMPILER "${HYPERLIGHT_GUEST_C_DIR}/bin/hyperlight-cc")

# Try-compiles link real guests (the runtime provides a default
# hyperlight_main), so check_function_exists and friends see exactly what
# musl and the runtime provide.
set(CMAKE_TRY_COMPILE_TARGET_TYPE EXECUTABLE)

# Libraries and headers are the guest's (musl's) own: never pick up the
# host's from find_library/find_path. Programs still run on the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
