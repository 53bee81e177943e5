"""What a run leaves on disk and in memory: its folder (:mod:`.folder`), checkpoints
(:mod:`.checkpoint`) and result (:mod:`.result`)."""
