#include <spdlog/spdlog.h>

#include <exception>

#include "app.hpp"
#include "config.hpp"

int main(int argc, char** argv) {
    int exit_code = 0;
    auto config = flaskcart::load_config(argc, argv, exit_code);
    if (!config) return exit_code;
    try {
        return flaskcart::run_command(*config);
    } catch (const std::exception& error) {
        spdlog::critical("fatal: {}", error.what());
        return 1;
    }
}
