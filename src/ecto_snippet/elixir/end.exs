# The last line of every answer. kmigrate takes an answer without it (the VM stopped
# early, the output was cut short) as an unknown outcome, never as "nothing to do".
say.("kmigrate:end", [])
