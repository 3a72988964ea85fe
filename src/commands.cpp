#include "commands.hpp"

#include <cstdlib>
#include <iostream>

#include "app.hpp"
#include "models/user_model.hpp"
#include "services/auth_service.hpp"
#include "utils/db_error.hpp"
#include "utils/text.hpp"
#include "utils/validation.hpp"

namespace flaskcart {

namespace {

std::string read_admin_password() {
    // getenv races only with setenv/putenv, which nothing in this process calls.
    // NOLINTNEXTLINE(concurrency-mt-unsafe)
    if (const char* from_env = std::getenv("FLASKCART_ADMIN_PASSWORD"); from_env != nullptr) {
        return from_env;
    }
    std::string line;
    std::getline(std::cin, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

}  // namespace

int create_admin(const Config& config, App& app) {
    const std::string email = text::to_lower_ascii(text::trim(config.admin_email));
    if (!validation::is_valid_email(email)) {
        std::cerr << "create-admin: --email is not a valid email address\n";
        return 2;
    }
    try {
        app.ensure_indexes();
        models::UserStore& users = app.users();
        if (auto existing = users.find_by_email(email)) {
            if (existing->role != models::kRoleAdmin)
                users.set_role(existing->id, models::kRoleAdmin);
            std::cout << "create-admin: " << email << " is an admin (id " << existing->id << ")\n";
            return 0;
        }
        const std::string name = text::trim(config.admin_name);
        if (name.empty() || text::utf8_length(name) > 100) {
            std::cerr << "create-admin: a new admin needs --name (1..100 characters)\n";
            return 2;
        }
        const std::string password = read_admin_password();
        const std::size_t length = text::utf8_length(password);
        if (length < 8 || length > 128) {
            std::cerr << "create-admin: the password (FLASKCART_ADMIN_PASSWORD or standard input) "
                         "must be 8..128 characters\n";
            return 2;
        }
        models::NewUser user;
        user.name = name;
        user.email = email;
        user.password_hash = app.auth().hash_password(password);
        user.role = std::string(models::kRoleAdmin);
        auto created = users.create(user);
        if (!created) {
            // Registered concurrently a moment ago: promote that account instead.
            auto existing = users.find_by_email(email);
            if (!existing) throw std::runtime_error("the account vanished while being created");
            users.set_role(existing->id, models::kRoleAdmin);
            created = existing;
        }
        std::cout << "create-admin: created admin " << email << " (id " << created->id << ")\n";
        return 0;
    } catch (const db::DbError& error) {
        std::cerr << "create-admin: database error: " << error.what() << "\n";
        return 1;
    }
}

}  // namespace flaskcart
