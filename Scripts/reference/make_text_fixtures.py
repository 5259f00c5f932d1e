"""Writes Tests/MetaTXTests/Fixtures/text_clip.safetensors: open_clip's CLIP
tokenizer ids for varied sentences, the golden values of TextTokenizerTests.

Needs open_clip's tokenizer module and its light dependencies (ftfy, regex,
torch); torch comes from any environment, e.g.

    python3 -m venv /tmp/venv-text && /tmp/venv-text/bin/pip install ftfy regex
    pip download --no-deps -d /tmp/oc open_clip_torch && cd /tmp/oc && unzip open_clip_torch-*.whl
    PYTHONPATH=/tmp/oc/open_clip:/tmp/venv-text/lib/python3.11/site-packages \
        python Scripts/reference/make_text_fixtures.py /usr/share/games/fortunes/fortunes

The optional argument is a fortune file (Debian package `fortunes`): its first
12 fortunes join the sentences. Then come 300 seeded random strings drawn from
many scripts, symbols, emoji, combining marks, control and C1 characters, and
fragments of HTML references and contractions, which exercise the cleaning and
the pre-tokenisation pattern far from everyday text.

Tensors: `ids` [S, 77] uint16 (every CLIP id fits), one row of `open_clip.tokenizer.tokenize` per
sentence. Metadata: `sentences` (JSON list) and `ftfy_mojibake` (JSON list of
the indices whose cleaning depends on ftfy's mojibake repair, which metatx
does not reimplement: `fix_text(t) != fix_text(t, fix_encoding=False)`).
"""
import json
import pathlib
import random
import sys

import ftfy
import numpy as np
from safetensors.numpy import save_file
from tokenizer import SimpleTokenizer  # open_clip/tokenizer.py

SENTENCES = [
    "a photo of a cat",
    "A Photo Of A Dog.",
    "a diagram",
    "",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nand  many   spaces",
    "It's a dog's life, isn't it? We're sure they'll say you'd've known.",
    "I'M SHOUTING, YOU'RE NOT. 'S 'T 'RE",
    "don't won't can't shouldn't",
    "Numbers: 3.14159, 1,000,000 and 42nd street; 2023-07-20.",
    "Phone: +1 (555) 010-9999, e-mail: someone@example.com",
    "https://github.com/mlfoundations/open_clip?tab=readme#usage",
    "Punctuation!!! ... ??? ;-) :-( <3 --- ___ *** ### $$$ %%% ^^^ &&& ((( )))",
    "quotes: \"double\" 'single' `back` «guillemets» „low“",
    "Curly “quotes” and ‘apostrophes’ — em dash – en dash…",
    "Café, naïve, résumé, façade, Ångström, Øresund, smörgåsbord",
    "Cafe\u0301 with a combining accent (NFD)",
    "Straße, Maße, İstanbul, ΣΊΣΥΦΟΣ, Οδυσσεύς",
    "Москва — столица России.",
    "東京は日本の首都です。",
    "北京欢迎你",
    "서울은 한국의 수도입니다",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "Emoji: 😀 🐱 👍🏽 👨‍👩‍👧 🇫🇷 ❤️",
    "🐶🐶🐶 dog dog dog",
    "Math: ∑ ∫ √2 ≈ 1.414, π ≠ 3, x² + y² = z², ½ ¼",
    "Roman numerals: Ⅻ ⅷ, circled ① ② ③, superscript ⁴",
    "ﬁne ﬂowers, ﬃ ligature, ĳsselmeer",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ and ｈａｌｆ",
    "HTML entities: &amp; &lt;b&gt; &quot;quoted&quot; &#39;x&#39; &#x263A; caf&eacute;",
    "double escaped &amp;amp; and &amp;lt;",
    "it&rsquo;s &ldquo;quoted&rdquo; &#8217;til &hellip; &mdash;",
    "P&EACUTE;REZ &SZLIG; &ntilde; &Ntilde; &NTILDE; &nTILDE; &AMP; &Quot;",
    "<b>it&rsquo;s</b> bold",
    "first line it&rsquo;s\n<second> it&rsquo;s",
    "&#12ab; &#x26;amp; &amp;rsquo; &quotx &ampamp; &copy2020 &notit; &#150; &#0; &#x110000;",
    "<start_of_text> inside text <end_of_text>",
    "<START_OF_TEXT> in capitals",
    "C1 control \x85 and \x92quote\x93",
    "control\x00chars\x07removed\x1b[31m red \x1b[0m",
    "zero\u200bwidth space and non\u00a0breaking space",
    "a-b_c/d\\e|f~g",
    "snake_case_identifier camelCaseIdentifier PascalCase",
    "1234567890 0987654321",
    "3d 4k 1080p 2x 10x",
    "mr. smith went to washington d.c. in 1999",
    "The quick brown fox jumps over the lazy dog.",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows.",
    " ".join(["word"] * 100),
    "A long caption that goes on and on, describing a very busy street scene at dusk with many people, "
    "cars, bicycles, street vendors selling food, neon signs in several languages, a dog chasing a pigeon, "
    "children playing near a fountain, and tall buildings whose windows reflect the orange sky above the city.",
]


def fortunes(path, count):
    text = pathlib.Path(path).read_text(encoding="utf-8", errors="strict")
    entries = [" ".join(entry.split()) for entry in text.split("\n%\n")]
    return [entry for entry in entries if entry][:count]


RANDOM_RANGES = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF), (0x900, 0x97F),
    (0x2000, 0x206F), (0x2100, 0x22FF), (0x3000, 0x30FF), (0x4E00, 0x4EFF), (0xAC00, 0xACFF),
    (0xFB00, 0xFB4F), (0xFF00, 0xFFEF), (0x1F300, 0x1F6FF), (0x0, 0x1F), (0x80, 0x9F), (0x300, 0x36F),
]
RANDOM_TAILS = ["&amp;", "&lt;", "&#39;", "'s", "'LL", "&#x41;", "&quot", "&ampx", "&#150;", "\u0345"]


def random_strings(count):
    rng = random.Random(0)
    strings = []
    while len(strings) < count:
        text = "".join(chr(rng.randint(*rng.choice(RANDOM_RANGES))) for _ in range(rng.randint(1, 40)))
        if rng.random() < 0.5:
            text += rng.choice(RANDOM_TAILS)
        strings.append(text)
    return strings


def main():
    sentences = list(SENTENCES)
    if len(sys.argv) > 1:
        sentences += fortunes(sys.argv[1], 12)
    sentences += random_strings(300)
    tokenizer = SimpleTokenizer()
    rows = tokenizer(sentences).numpy()
    assert rows.max() < 65536
    ids = rows.astype(np.uint16)
    mojibake = [i for i, s in enumerate(sentences) if ftfy.fix_text(s) != ftfy.fix_text(s, fix_encoding=False)]
    target = pathlib.Path(__file__).resolve().parents[2] / "Tests/MetaTXTests/Fixtures/text_clip.safetensors"
    save_file({"ids": ids}, str(target), metadata={
        "sentences": json.dumps(sentences, ensure_ascii=False),
        "ftfy_mojibake": json.dumps(mojibake),
    })
    print(target, ids.shape, "mojibake-dependent:", mojibake)


main()
