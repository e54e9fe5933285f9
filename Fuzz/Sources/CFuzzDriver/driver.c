/* Intentionally empty: the target exists to expose include/fuzz_driver.h to Swift. */
