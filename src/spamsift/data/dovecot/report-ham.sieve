# Dovecot IMAPSieve (imapsieve_mailbox2_*): a message moved or copied out of Junk into
# another folder is not spam in this user's eyes, unless that folder is the Trash:
# deleting spam (which moves it to the Trash in most clients) says nothing about it.
# Add your Trash folder's name here if it is none of these (with its namespace prefix,
# "INBOX.Trash" say, if your namespace has one).
require ["vnd.dovecot.pipe", "copy", "imapsieve", "environment", "variables"];

if environment :matches "imap.mailbox" "*" {
  set "mailbox" "${1}";
}

if string :is "${mailbox}" ["Trash", "Deleted Items", "Deleted Messages"] {
  stop;
}

if environment :matches "imap.user" "*" {
  set "username" "${1}";
}

pipe :copy "spamsift-learn-ham.sh" [ "--user", "${username}" ];
