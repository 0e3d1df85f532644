# Dovecot IMAPSieve (imapsieve_mailbox1_*): a message moved, copied or saved into Junk
# is spam in this user's eyes. spamsift-learn-spam.sh gets it on stdin.
require ["vnd.dovecot.pipe", "copy", "imapsieve", "environment", "variables"];

if environment :matches "imap.user" "*" {
  set "username" "${1}";
}

pipe :copy "spamsift-learn-spam.sh" [ "--user", "${username}" ];
