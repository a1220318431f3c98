#include "util/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace nmscope {

namespace {

void close_pipe(int (&ends)[2]) {
  for (int& end : ends)
    if (end >= 0) close(end), end = -1;
}

}  // namespace

bool program_on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string directories = path ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= directories.size()) {
    const std::size_t end = std::min(directories.find(':', start), directories.size());
    const std::string directory = end > start ? directories.substr(start, end - start) : ".";
    const std::string candidate = directory + "/" + program;
    std::error_code error;
    if (std::filesystem::is_regular_file(candidate, error) && access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& working_directory) {
  ProcessResult result;
  if (argv.empty()) {
    result.error = "no program given";
    return result;
  }
  // A pipe that the child closes on a successful exec: anything read from it is exec's errno.
  int out[2] = {-1, -1}, err[2] = {-1, -1}, exec_status[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(exec_status, O_CLOEXEC) != 0) {
    result.error = std::string("cannot create a pipe: ") + std::strerror(errno);
    close_pipe(out), close_pipe(err), close_pipe(exec_status);
    return result;
  }
  std::vector<char*> arguments;
  for (const std::string& argument : argv) arguments.push_back(const_cast<char*>(argument.c_str()));
  arguments.push_back(nullptr);

  const pid_t child = fork();
  if (child < 0) {
    result.error = std::string("cannot start a process: ") + std::strerror(errno);
    close_pipe(out), close_pipe(err), close_pipe(exec_status);
    return result;
  }
  if (child == 0) {
    const int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    if (!working_directory.empty() && chdir(working_directory.c_str()) != 0) {
      const int code = errno;
      ssize_t written = write(exec_status[1], &code, sizeof code);
      (void)written;
      _exit(127);
    }
    execvp(arguments[0], arguments.data());
    const int code = errno;
    ssize_t written = write(exec_status[1], &code, sizeof code);
    (void)written;
    _exit(127);
  }
  close(out[1]), out[1] = -1;
  close(err[1]), err[1] = -1;
  close(exec_status[1]), exec_status[1] = -1;

  // Both streams at once: a child that fills one pipe while we block on the other would never finish.
  pollfd streams[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_streams = 2;
  char buffer[8192];
  while (open_streams > 0) {
    if (poll(streams, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (streams[i].fd < 0 || !(streams[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t got = read(streams[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        sinks[i]->append(buffer, std::size_t(got));
      } else if (got == 0 || errno != EINTR) {
        streams[i].fd = -1;
        --open_streams;
      }
    }
  }
  int exec_errno = 0;
  const bool exec_failed = read(exec_status[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  close_pipe(out), close_pipe(err), close_pipe(exec_status);

  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (exec_failed) {
    result.error =
        argv[0] + ": " + (exec_errno == ENOENT ? std::string("not found on PATH") : std::strerror(exec_errno));
    return result;
  }
  result.started = true;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace nmscope
