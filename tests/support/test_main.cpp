// Test entry point: the driver lives for the whole run, like in the service.
#include <gtest/gtest.h>

#include "utils/db.hpp"

int main(int argc, char** argv) {
    flaskcart::db::DriverLifetime driver;
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
