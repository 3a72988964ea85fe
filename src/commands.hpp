#pragma once
// Administrative subcommands of the flaskcart binary (besides serving).

#include "config.hpp"

namespace flaskcart {

class App;

// `flaskcart create-admin --email E [--name N]`: promotes an existing user to admin, or creates
// one with the password from FLASKCART_ADMIN_PASSWORD or the first line of standard input
// (never a flag: it would show in `ps`). Idempotent. Returns the exit code.
int create_admin(const Config& config, App& app);

}  // namespace flaskcart
