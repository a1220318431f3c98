# Verilates one array shape and builds it into a static library, through a cache keyed by everything that goes
# in (the RTL's bytes, the parameters, the flags, Verilator's version), so a fresh clone on a machine that built
# the same RTL before skips Verilator and the C++ compile of its output. Run as:
#   cmake -DVERILATOR=... -DSOURCES=a.sv;b.sv -DWAIVERS=lint.vlt -DTOP=... -DPREFIX=... -DPARAMS=... -DFLAGS=...
#         -DOUT_DIR=... -DCACHE_ROOT=... -P verilate.cmake
execute_process(COMMAND ${VERILATOR} --version OUTPUT_VARIABLE version OUTPUT_STRIP_TRAILING_WHITESPACE)
# The model is compiled with -march=native by the compiler Verilator's makefile calls: both belong to the key.
execute_process(COMMAND g++ --version OUTPUT_VARIABLE compiler ERROR_QUIET)
execute_process(COMMAND g++ -march=native -Q --help=target OUTPUT_VARIABLE target ERROR_QUIET)
string(SHA256 toolchain "${compiler}${target}")
set(key "${version}|${toolchain}|${TOP}|${PREFIX}|${PARAMS}|${FLAGS}")
# The waivers decide which warnings fail Verilation: they belong to the key like the RTL.
foreach(source IN LISTS SOURCES WAIVERS)
  file(SHA256 ${source} digest)
  get_filename_component(name ${source} NAME)
  string(APPEND key "|${name}:${digest}")
endforeach()
string(SHA256 hash "${key}")
set(cached ${CACHE_ROOT}/${PREFIX}-${hash})

if(EXISTS ${cached}/complete)
  file(GLOB artefacts ${cached}/*.h ${cached}/*.a)
  file(COPY ${artefacts} DESTINATION ${OUT_DIR})
  # Copies keep the cache's timestamps; the build must see them as newer than the RTL it just checked.
  file(GLOB copied ${OUT_DIR}/*.h ${OUT_DIR}/*.a)
  file(TOUCH_NOCREATE ${copied})
  message(STATUS "verilate: ${PREFIX} from cache ${cached}")
  return()
endif()

set(modules "")
foreach(source IN LISTS SOURCES)
  if(source MATCHES "\\.sv$")
    list(APPEND modules ${source})
  else()
    get_filename_component(include_dir ${source} DIRECTORY)
  endif()
endforeach()
separate_arguments(param_list UNIX_COMMAND "${PARAMS}")
separate_arguments(flag_list UNIX_COMMAND "${FLAGS}")
execute_process(
  COMMAND ${VERILATOR} --cc --build -j 2 --prefix ${PREFIX} --top-module ${TOP} ${param_list} ${flag_list}
          -I${include_dir} -Mdir ${OUT_DIR} ${WAIVERS} ${modules}
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "verilate: Verilator failed for ${PREFIX} (exit ${status})")
endif()

# Publish atomically: a half-written cache entry must never be taken for a complete one.
set(staging ${cached}.partial-${hash})
file(REMOVE_RECURSE ${staging})
file(MAKE_DIRECTORY ${staging})
file(GLOB artefacts ${OUT_DIR}/*.h ${OUT_DIR}/*.a)
file(COPY ${artefacts} DESTINATION ${staging})
file(TOUCH ${staging}/complete)
file(REMOVE_RECURSE ${cached})
file(RENAME ${staging} ${cached})
