#pragma once
// Child processes for tests: spawned with fork/exec, stopped by PID (never by name).

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace flaskcart::testing {

class ChildProcess {
  public:
    // Starts argv[0] with the current environment plus `extra_env` ("NAME=value"). Standard
    // output is readable with read_line(); standard error goes to `stderr_path`.
    ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                 const std::string& stderr_path);
    ~ChildProcess();  // SIGKILL and reap if still running
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const noexcept { return pid_; }
    // A line of standard output, or std::nullopt on timeout or end of output.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    void send_signal(int signal_number) const;
    // Waits for exit; returns the exit code, 128 + signal when killed, or std::nullopt on timeout.
    std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
    bool is_running();

  private:
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::string pending_;
    std::optional<int> exit_code_;
};

// A TCP port that was free a moment ago on 127.0.0.1.
int find_free_port();
bool wait_for_port(int port, std::chrono::milliseconds timeout);
std::string make_temp_dir(const std::string& prefix);
void remove_tree(const std::string& path);

}  // namespace flaskcart::testing
