"""``python -m twinsim.sim.families``: print the family table (docs/families.md) as markdown."""

from twinsim.sim.families import markdown_table

if __name__ == "__main__":
    print(markdown_table())
