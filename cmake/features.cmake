# Which parts of nmscope this configure builds, and why. Each part (GUI, CUDA, Verilator) left unset defaults to ON
# when its toolchain is found, so one configure works on a desktop, on the GPU machine (no Qt) and in a sanitizer
# build. Set explicitly to ON, a missing toolchain is a configure error that names what is missing and the Debian
# package that brings it: a product that silently builds without its window is what issue #17 was about.
#
# Sets NMSCOPE_GUI, NMSCOPE_VERILATOR, NMSCOPE_CUDA (cache options) and NMSCOPE_<PART>_REASON (one line each, printed
# in the summary by nmscope_print_feature_summary()).

# The Qt modules the desktop application links, each with the Debian package that ships its CMake package. Charts
# also needs Qt's OpenGL CMake package, which Debian's qt6-charts-dev does not pull in.
set(NMSCOPE_GUI_QT_MODULES Widgets OpenGL Charts Concurrent PrintSupport Svg)
set(_nmscope_qt_package_Widgets qt6-base-dev)
set(_nmscope_qt_package_Charts qt6-charts-dev)
set(_nmscope_qt_package_Concurrent qt6-base-dev)
set(_nmscope_qt_package_PrintSupport qt6-base-dev)
set(_nmscope_qt_package_Svg qt6-svg-dev)
set(_nmscope_qt_package_OpenGL libqt6opengl6-dev)

# Qt modules of the GUI that CMake cannot find, as "Module (Debian: package)" items in `out_missing`.
function(_nmscope_missing_gui_modules out_missing)
  set(_missing "")
  foreach(_module IN LISTS NMSCOPE_GUI_QT_MODULES)
    # One module at a time: a failing component makes the whole find_package call fail, and we want every name.
    find_package(Qt6 6.4 QUIET COMPONENTS ${_module})
    if(Qt6${_module}_FOUND)
      continue()
    endif()
    if(Qt6${_module}_DIR)
      # Its own CMake package is there, one it depends on is not (Charts without OpenGL, for instance).
      list(APPEND _missing "Qt6 ${_module} (installed, but a Qt module it needs is missing)")
    else()
      list(APPEND _missing "Qt6 ${_module} (Debian: ${_nmscope_qt_package_${_module}})")
    endif()
  endforeach()
  set(${out_missing} "${_missing}" PARENT_SCOPE)
endfunction()

# --- GUI ---------------------------------------------------------------------------------------------------------
_nmscope_missing_gui_modules(_gui_missing)
if(DEFINED NMSCOPE_GUI)
  set(_gui_explicit TRUE)
else()
  set(_gui_explicit FALSE)
endif()
set(_gui_default OFF)
if(NOT _gui_missing)
  set(_gui_default ON)
endif()
option(NMSCOPE_GUI "Build the Qt desktop application" ${_gui_default})
list(JOIN _gui_missing ", " _gui_missing_text)
if(NMSCOPE_GUI AND _gui_missing)
  message(FATAL_ERROR "NMSCOPE_GUI=ON, but the desktop application's Qt modules are missing: ${_gui_missing_text}. "
                      "Install them (./nmscope.sh does) or configure with -DNMSCOPE_GUI=OFF for core and CLI only.")
elseif(NMSCOPE_GUI)
  set(NMSCOPE_GUI_REASON "Qt 6 Widgets, Charts, Concurrent, PrintSupport, Svg and OpenGL found")
elseif(_gui_explicit AND NOT _gui_missing)
  set(NMSCOPE_GUI_REASON "-DNMSCOPE_GUI=OFF given")
else()
  set(NMSCOPE_GUI_REASON "not found: ${_gui_missing_text}")
endif()

# --- Verilator ---------------------------------------------------------------------------------------------------
find_program(NMSCOPE_VERILATOR_EXECUTABLE verilator)
set(_verilator_default OFF)
if(NMSCOPE_VERILATOR_EXECUTABLE)
  set(_verilator_default ON)
endif()
option(NMSCOPE_VERILATOR "Build cycle-accurate Verilator models of the FPGA array (rtl/)" ${_verilator_default})
if(NMSCOPE_VERILATOR AND NOT NMSCOPE_VERILATOR_EXECUTABLE)
  message(FATAL_ERROR "NMSCOPE_VERILATOR=ON, but no verilator was found on PATH (Debian: verilator). "
                      "Install it or configure with -DNMSCOPE_VERILATOR=OFF (the FPGA engine then uses its analytic model only).")
elseif(NMSCOPE_VERILATOR)
  set(NMSCOPE_VERILATOR_REASON "${NMSCOPE_VERILATOR_EXECUTABLE}")
elseif(NMSCOPE_VERILATOR_EXECUTABLE)
  set(NMSCOPE_VERILATOR_REASON "-DNMSCOPE_VERILATOR=OFF given")
else()
  set(NMSCOPE_VERILATOR_REASON "no verilator on PATH (Debian: verilator)")
endif()

# --- CUDA --------------------------------------------------------------------------------------------------------
# No GPU is needed to build; the tests skip without one. Sanitizer and fuzz builds leave the kernels out: they check
# host code, and nvcc takes no -fsanitize.
include(CheckLanguage)
check_language(CUDA)
set(_cuda_default OFF)
if(CMAKE_CUDA_COMPILER AND NOT NMSCOPE_SANITIZE AND NOT NMSCOPE_FUZZ)
  set(_cuda_default ON)
endif()
option(NMSCOPE_CUDA "Build the CUDA kernels and GPU engines (sm_90a)" ${_cuda_default})
if(NMSCOPE_CUDA AND NOT CMAKE_CUDA_COMPILER)
  message(FATAL_ERROR "NMSCOPE_CUDA=ON, but no CUDA compiler was found (nvcc of the CUDA 12.x/13.x toolkit on PATH or "
                      "in /usr/local/cuda/bin). Install the toolkit or configure with -DNMSCOPE_CUDA=OFF.")
elseif(NMSCOPE_CUDA)
  set(NMSCOPE_CUDA_REASON "${CMAKE_CUDA_COMPILER}")
elseif(NOT CMAKE_CUDA_COMPILER)
  set(NMSCOPE_CUDA_REASON "no nvcc found: the gpu/ engines are listed as unavailable")
elseif(NMSCOPE_SANITIZE OR NMSCOPE_FUZZ)
  set(NMSCOPE_CUDA_REASON "left out of sanitizer and fuzz builds")
else()
  set(NMSCOPE_CUDA_REASON "-DNMSCOPE_CUDA=OFF given")
endif()

function(nmscope_print_feature_summary)
  message(STATUS "nmscope configuration:")
  foreach(_part GUI CUDA VERILATOR)
    if(NMSCOPE_${_part})
      set(_state ON)
    else()
      set(_state OFF)
    endif()
    string(SUBSTRING "${_part}         " 0 10 _label)
    message(STATUS "  ${_label}${_state}  (${NMSCOPE_${_part}_REASON})")
  endforeach()
  message(STATUS "  tests     ${NMSCOPE_TESTS}    sanitize: '${NMSCOPE_SANITIZE}'")
endfunction()
