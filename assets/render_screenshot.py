#!/usr/bin/env python3
"""Renders a terminal capture (`tmux capture-pane -e -p`, ANSI colours included) to a PNG.

    tmux capture-pane -e -p -t SESSION | python3 assets/render_screenshot.py assets/dashboard.png

Needs Pillow and the DejaVu Sans Mono font. Handles the SGR codes tmux emits: bold, reverse,
the 16 basic colours, 256-colour and truecolour."""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
BASIC = [(30, 30, 30), (205, 49, 49), (13, 188, 121), (229, 229, 16), (36, 114, 200), (188, 63, 188),
         (17, 168, 205), (229, 229, 229), (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
         (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255)]
FG, BG = (220, 220, 220), (24, 24, 24)


def color256(n):
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return steps[n // 36], steps[n // 6 % 6], steps[n % 6]
    v = 8 + (n - 232) * 10
    return v, v, v


def cells(text):
    """Yields (row, col, char, fg, bg, bold) for each character."""
    fg, bg, bold, reverse = FG, BG, False, False
    for row, line in enumerate(text.split("\n")):
        col = 0
        for token in re.split(r"(\x1b\[[0-9;]*m)", line):
            if token.startswith("\x1b["):
                codes = [int(c) if c else 0 for c in token[2:-1].split(";")]
                i = 0
                while i < len(codes):
                    c = codes[i]
                    if c == 0:
                        fg, bg, bold, reverse = FG, BG, False, False
                    elif c == 1:
                        bold = True
                    elif c == 22:
                        bold = False
                    elif c == 7:
                        reverse = True
                    elif c == 27:
                        reverse = False
                    elif 30 <= c <= 37:
                        fg = BASIC[c - 30]
                    elif 90 <= c <= 97:
                        fg = BASIC[c - 90 + 8]
                    elif 40 <= c <= 47:
                        bg = BASIC[c - 40]
                    elif 100 <= c <= 107:
                        bg = BASIC[c - 100 + 8]
                    elif c == 39:
                        fg = FG
                    elif c == 49:
                        bg = BG
                    elif c in (38, 48) and i + 1 < len(codes):
                        if codes[i + 1] == 5 and i + 2 < len(codes):
                            value, i = color256(codes[i + 2]), i + 2
                        elif codes[i + 1] == 2 and i + 4 < len(codes):
                            value, i = tuple(codes[i + 2:i + 5]), i + 4
                        else:
                            value = FG if c == 38 else BG
                        fg, bg = (value, bg) if c == 38 else (fg, value)
                    i += 1
                continue
            for ch in token:
                f, b = (bg, fg) if reverse else (fg, bg)
                yield row, col, ch, f, b, bold
                col += 1


def main():
    out = sys.argv[1]
    text = sys.stdin.read().rstrip("\n")
    font, bold_font = ImageFont.truetype(FONT, 14), ImageFont.truetype(BOLD, 14)
    w, h = 8, 17
    rows = text.count("\n") + 1
    cols = max(len(re.sub(r"\x1b\[[0-9;]*m", "", l)) for l in text.split("\n"))
    img = Image.new("RGB", (cols * w + 16, rows * h + 16), BG)
    draw = ImageDraw.Draw(img)
    for row, col, ch, fg, bg, bold in cells(text):
        x, y = 8 + col * w, 8 + row * h
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill=bg)
        if ch != " ":
            draw.text((x, y), ch, font=bold_font if bold else font, fill=fg)
    img.save(out)


if __name__ == "__main__":
    main()
