A='1'
B="two words"
C=bare:value
# comment

D='it'\''s'
E='multi
line'
