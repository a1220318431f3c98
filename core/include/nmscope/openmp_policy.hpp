#pragma once
// cpu/onednn-bf16-dense runs on OpenMP, which reads OMP_WAIT_POLICY once, when libgomp is loaded; with the default
// policy its idle threads spin for milliseconds after every product and take the cores from the engine timed next
// (kernels/cpu/include/nmscope/kernels/onednn_module.hpp has the figures). The CLI loads libgomp only with oneDNN,
// after asking for a passive policy; a Qt program has libgomp from its start (Qt Core -> libb2 -> libgomp), so the
// app calls this first thing in main().
namespace nmscope {

// When OpenMP is already loaded and the user chose no policy: sets OMP_WAIT_POLICY=PASSIVE and re-executes this
// program with the same arguments. Returns when nothing needed doing, or when the re-execution failed (the oneDNN
// rows then say that its threads spin).
void restart_with_passive_openmp(char** argv);

}  // namespace nmscope
