"""Pictures of the hub's data, drawn with matplotlib: the collaboration matrix as a heatmap
(`matrix`) and a couple's roadmap as a timeline (`roadmap`).

matplotlib is imported only when a picture is drawn (it is slow to import and heavy in
memory), with the non-interactive Agg backend and no pyplot, so no global figure state is
shared between threads. Each drawing function returns the PNG and what it drew, as plain data:
tests check that data, and that the bytes are a PNG of a sensible size, never pixels.
"""
