/* Compiler attributes used across lurk. */
#ifndef LURK_COMPILER_H
#define LURK_COMPILER_H

#define LURK_MUST_CHECK       __attribute__((warn_unused_result))
#define LURK_PRINTF(fmt, arg) __attribute__((format(printf, fmt, arg)))
#define LURK_NORETURN         __attribute__((noreturn))
#define LURK_UNUSED           __attribute__((unused))
/* Everything else is built with -fvisibility=hidden. */
#define LURK_EXPORT       __attribute__((visibility("default")))
#define LURK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
