"""Champions the project evolved itself, one per built-in level, installed as `tilerunner.replays`.

`tilerunner replay --list` lists them after any install, and `tilerunner replay NAME` plays one by
its file name (for example `tilerunner replay 2-3-f3311.json`).
"""
