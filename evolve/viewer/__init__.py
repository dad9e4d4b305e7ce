"""The pygame viewer: the game, the agent's view and its network live; charts; human play."""
