"""Build, at test time, a realistic news page around the Italian corpus article; reads the corpus, writes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

from tests.corpora import ITALIAN_ARTICLE

# Each string is something a reader must never see in the extracted article; one per kind of boilerplate.
NAV_LINKS = [
    "Intelligenza Artificiale",
    "Smartphone e Tablet",
    "Guide Pratiche",
    "Recensioni Prodotti",
    "Offerte del Giorno",
    "Criptovalute",
    "Videogiochi",
    "Mobilità Elettrica",
    "Chi Siamo",
    "Contatti Redazione",
]
COOKIE_BANNER = (
    "Questo sito utilizza cookie tecnici e, previo tuo consenso, cookie di profilazione di terze parti per "
    "mostrarti pubblicità in linea con le tue preferenze."
)
AD_LABEL = "Pubblicità"
AD_TEXT = "Scopri le nuove offerte fibra a 24,90 euro al mese: attivazione gratuita fino a domenica"
SPONSORED_TEXT = "Contenuto sponsorizzato: il corso online che ti insegna a programmare con l'AI in 30 giorni"
RELATED_TITLES = [
    "OpenAI presenta il nuovo modello di ragionamento per sviluppatori",
    "Google investe due miliardi nei data center europei",
    "Meta assume i ricercatori di una startup francese",
    "Microsoft rinnova l'accordo con OpenAI fino al 2030",
]
NEWSLETTER_TEXT = (
    "Ricevi ogni venerdì le notizie più importanti sull'intelligenza artificiale direttamente nella tua casella"
)
FOOTER_TEXT = "© 2025 Tech Notizie Italia S.r.l. – P.IVA 01234567890 – Tutti i diritti riservati"
LEGAL_LINKS = ["Informativa sulla privacy", "Gestione dei cookie", "Note legali e condizioni d'uso"]
SHARE_TEXT = "Condividi su Facebook"
SCRIPT_TEXT = "window.dataLayer.push"

BOILERPLATE = [
    *NAV_LINKS,
    COOKIE_BANNER,
    AD_TEXT,
    SPONSORED_TEXT,
    *RELATED_TITLES,
    NEWSLETTER_TEXT,
    FOOTER_TEXT,
    *LEGAL_LINKS,
    SHARE_TEXT,
    SCRIPT_TEXT,
]
_DATE_LINE = re.compile(r"\d{4}\s+-\s+\d{1,2}:\d{2}\s*$")  # "3 Agosto 2025 - 10:04", with NBSPs around the dash


@dataclass(frozen=True)
class Article:
    """The Italian corpus article split into what a page shows: title, date lines, body (headings and paragraphs)."""

    title: str
    dates: list[str]
    headings: list[str]
    paragraphs: list[str]
    body: list[str]  # headings and paragraphs in page order


def read_italian_article(path: Path = ITALIAN_ARTICLE) -> Article:
    """The corpus file is "title / blank / date lines, counters, title again, image credit / blank / body blocks"."""
    blocks = [block.strip() for block in path.read_text(encoding="utf-8").split("\n\n") if block.strip()]
    title, meta, body = blocks[0], blocks[1].splitlines(), blocks[2:]
    dates = [" ".join(line.split()) for line in meta if _DATE_LINE.search(line)]
    # Section headings are the short blocks that do not end a sentence.
    headings = [block for block in body if len(block) < 80 and not block.endswith((".", "”", '"'))]
    paragraphs = [block for block in body if block not in headings]
    return Article(title=title, dates=dates, headings=headings, paragraphs=paragraphs, body=body)


def italian_article_page(article: Article | None = None) -> str:
    """An HTML page holding the article amid a nav menu, cookie banner, ads, related links, newsletter and footer."""
    article = article or read_italian_article()
    nav = "".join(f'<li><a href="/categoria/{i}/">{escape(name)}</a></li>' for i, name in enumerate(NAV_LINKS))
    related = "".join(
        f'<li><a href="/news/{i}/">{escape(title)}</a><span class="date">1 Agosto 2025</span></li>'
        for i, title in enumerate(RELATED_TITLES)
    )
    legal = " | ".join(f'<a href="/legal/{i}/">{escape(name)}</a>' for i, name in enumerate(LEGAL_LINKS))
    body_html: list[str] = []
    for number, block in enumerate(article.body):
        tag = "h2" if block in article.headings else "p"
        body_html.append(f"<{tag}>{escape(block)}</{tag}>")
        if number == 3:  # an ad slot in the middle of the text, as publishers place them
            body_html.append(
                f'<div class="adv-inline" data-slot="mid1"><span class="adv-label">{AD_LABEL}</span>'
                f'<a href="https://ads.example/click?id=42" rel="sponsored">{escape(AD_TEXT)}</a></div>'
            )
    dates = "".join(f'<time class="meta-date">{escape(date)}</time> ' for date in article.dates)
    return f"""<!DOCTYPE html>
<html lang="it">
<head>
<meta charset="utf-8">
<title>{escape(article.title)} | Tech Notizie Italia</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="{escape(article.title)}">
<meta property="og:type" content="article">
<link rel="stylesheet" href="/static/main.css">
<style>.adv-inline{{border:1px solid #ccc;padding:8px}} #cookie-banner{{position:fixed;bottom:0}}</style>
<script>window.dataLayer = window.dataLayer || []; window.dataLayer.push({{event: "page_view"}});</script>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "{escape(article.title)}", "datePublished": "2025-08-02T15:28:00+02:00"}}</script>
</head>
<body class="single-post">
<div id="cookie-banner" class="cookie-consent" role="dialog">
  <p>{escape(COOKIE_BANNER)} <a href="/cookie-policy/">Leggi l'informativa</a></p>
  <button class="accept">Accetta tutti</button> <button class="reject">Rifiuta</button>
  <button class="settings">Personalizza</button>
</div>
<header class="site-header">
  <a class="logo" href="/"><img src="/static/logo.png" alt="Tech Notizie Italia"></a>
  <nav class="main-menu" aria-label="Menu principale"><ul>{nav}</ul></nav>
  <form class="search" action="/cerca"><input type="search" name="q" placeholder="Cerca nel sito"></form>
</header>
<div class="adv-leaderboard"><span class="adv-label">{AD_LABEL}</span>
  <a href="https://ads.example/click?id=7" rel="sponsored"><img src="https://ads.example/banner.jpg" alt="banner"></a>
</div>
<nav class="breadcrumbs"><a href="/">Home</a> › <a href="/categoria/0/">{escape(NAV_LINKS[0])}</a></nav>
<main id="content">
<article class="post">
  <header class="entry-header">
    <h1 class="entry-title">{escape(article.title)}</h1>
    <div class="entry-meta">{dates}<span class="author">di Redazione</span>
      <span class="comments-count">0 commenti</span></div>
    <div class="share-buttons"><a href="https://facebook.example/share">{SHARE_TEXT}</a>
      <a href="https://x.example/share">Condividi su X</a></div>
  </header>
  <figure class="featured"><img src="/uploads/anthropic-openai.jpg" alt="">
    <figcaption>Immagine di Freepik</figcaption></figure>
  <div class="entry-content">
  {"".join(body_html)}
  </div>
  <div class="tags">Tag: <a href="/tag/anthropic/">Anthropic</a> <a href="/tag/openai/">OpenAI</a></div>
</article>
<aside class="sponsored-box"><span class="label">Contenuto sponsorizzato</span>
  <a href="https://partner.example/corso" rel="sponsored">{escape(SPONSORED_TEXT)}</a></aside>
<section class="related-posts"><h3>Articoli correlati</h3><ul>{related}</ul></section>
<section class="newsletter-signup"><h3>Iscriviti alla newsletter</h3><p>{escape(NEWSLETTER_TEXT)}</p>
  <form action="/newsletter"><input type="email" placeholder="La tua email"><button>Iscriviti</button></form>
</section>
<section id="comments"><h3>Lascia un commento</h3>
  <form action="/commenti"><textarea name="comment"></textarea><button>Invia commento</button></form></section>
</main>
<aside class="sidebar"><h3>I più letti</h3><ul>{related}</ul>
  <div class="adv-sidebar"><span class="adv-label">{AD_LABEL}</span><a href="https://ads.example/click?id=9">{escape(AD_TEXT)}</a></div>
</aside>
<footer class="site-footer">
  <p>{escape(FOOTER_TEXT)}</p>
  <p>{legal}</p>
  <nav class="footer-menu"><ul>{nav}</ul></nav>
</footer>
<script src="/static/analytics.js"></script>
</body>
</html>
"""
