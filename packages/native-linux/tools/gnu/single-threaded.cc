// Linked into the glibc build (linux-x64-gnu) only: the addon's own,
// hidden __libc_single_threaded, always 0.
//
// GCC 12's libstdc++ (its headers and its statically linked objects) reads
// glibc's __libc_single_threaded (GLIBC_2.32) to skip atomic instructions
// while a process has one thread: reference counts of shared_ptr, locale and
// the like. 0 means "other threads may exist", which glibc documents as
// always a correct value, and for which libstdc++ takes the atomic path, as
// it does whenever threads run (the addon starts its own). Nothing writes it:
// libstdc++ only
// reads it, glibc writes only its own. So every reference inside the addon
// resolves to this definition, and nothing asks glibc for it.
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}
