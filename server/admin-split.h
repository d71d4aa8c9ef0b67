/* lurk-admin split and split-check: the two shares of a split key (admin-split.c). */
#ifndef LURK_ADMIN_SPLIT_H
#define LURK_ADMIN_SPLIT_H

/* argv[0] is "split" / "split-check"; 0, 1 (error) or 2 (usage). */
int lurk_admin_split(int argc, char **argv);
int lurk_admin_split_check(int argc, char **argv);

#endif
