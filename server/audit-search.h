/* lurk-admin audit: search lurkd's audit log (see audit-search.c). */
#ifndef LURKD_AUDIT_SEARCH_H
#define LURKD_AUDIT_SEARCH_H

int lurk_admin_audit(int argc, char **argv);

#endif
