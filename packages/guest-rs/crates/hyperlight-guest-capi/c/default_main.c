/*
 * The weak, empty hyperlight_main: a guest that defines its own replaces it;
 * one that does not (a build system's compiler check linking
 * `int main(void) { return 0; }`) still links, and publishes no functions.
 * Its own archive member, so the Rust object that calls it cannot inline it.
 */
__attribute__((weak)) void hyperlight_main(void) {}
