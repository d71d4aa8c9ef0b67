/* lurk-admin lurk-key: a LURK KEY file for lurk's OpenSSL provider (admin-lurkkey.c). */
#ifndef LURK_ADMIN_LURKKEY_H
#define LURK_ADMIN_LURKKEY_H

/* argv[0] is "lurk-key"; 0, 1 (error) or 2 (usage); the file goes to stdout. */
int lurk_admin_lurkkey(int argc, char **argv);

#endif
