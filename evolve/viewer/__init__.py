"""The pygame viewer: the game, the agent's view and its network live; charts; human play.

- `viewer`: `Viewer` (plays shows from a source and draws each frame; `run()` opens the window),
  `screenshot_middle`;
- `shows`: `ShowSource` (the one interface between the viewer and what it plays), `Show`,
  `ReplayShows` (replay files in turn), `RunFollower` (a run folder's newest champion), `shows_of`;
- `panels`: the drawing of each part (game, input grid, network, banners, help, buttons);
- `net_layout`: where each node of a network is drawn (`layout_network`, `PanelGeometry`);
- `foreseen`: foresight's paths over the game view (`draw_foreseen`, `draw_fate_key`, `game_picture`);
- `chart`: the fitness and species chart (`draw_chart`, `chart_image`);
- `human_play`: `HumanPlay`, a person playing a level with the agent's view beside it.

The viewer uses the library (`core`, `runs`), `tilerunner.agent` and `tilerunner.envs`, never the
commands; pygame is imported only when something is drawn.
"""
