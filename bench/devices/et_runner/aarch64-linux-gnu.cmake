# CMake toolchain file: cross-build edgeav_et_runner for Linux/aarch64 with Debian's cross g++
# (g++-aarch64-linux-gnu). Used by `edgeav device setup arm` (bench/devices/arm/builds.py):
#   cmake -S bench/devices/et_runner -B build/arm-runner -DCMAKE_TOOLCHAIN_FILE=bench/devices/et_runner/aarch64-linux-gnu.cmake \
#         -DEXECUTORCH_ROOT=<the aarch64 executorch wheel, unpacked>/executorch
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Libraries and headers come from EXECUTORCH_ROOT and the cross toolchain, never from the host's /usr.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
