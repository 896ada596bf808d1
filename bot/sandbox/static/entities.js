// Telegram's formatting built as DOM from the plain text and its entities (never from HTML),
// so nothing the bot or a person wrote can become markup. Offsets are UTF-16 code units, as
// JavaScript strings count them.
"use strict";

const SandboxEntities = (() => {
  const LINK_SCHEMES = new Set(["http:", "https:", "mailto:", "tg:"]);
  // Telegram makes /commands in a bot's text tappable; tapping one sends it.
  const COMMAND = /(^|[\s(])(\/[A-Za-z][A-Za-z0-9_]{1,31})(?=$|[\s.,;:!?)])/g;
  const NO_COMMANDS = new Set(["code", "pre", "text_link", "url", "date_time"]);

  function safeUrl(url) {
    try {
      const parsed = new URL(url);
      return LINK_SCHEMES.has(parsed.protocol) ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  function dateTimeText(entity, context) {
    const when = new Date(entity.unix_time * 1000);
    const format = entity.date_time_format || "";
    if (format === "r") {
      const seconds = Math.round((when.getTime() - context.now()) / 1000);
      const units = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
      const [unit, size] = units.find(([, size]) => Math.abs(seconds) >= size) || units[3];
      return new Intl.RelativeTimeFormat(context.language, { numeric: "auto" })
        .format(Math.round(seconds / size), unit);
    }
    const options = { timeZone: context.zone };
    if (format.includes("w")) options.weekday = "long";
    if (format.includes("d")) Object.assign(options, { year: "2-digit", month: "2-digit", day: "2-digit" });
    if (format.includes("D")) Object.assign(options, { year: "numeric", month: "long", day: "numeric" });
    if (format.includes("t")) Object.assign(options, { hour: "2-digit", minute: "2-digit" });
    if (format.includes("T")) Object.assign(options, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    return new Intl.DateTimeFormat(context.language, options).format(when);
  }

  function element(entity, context) {
    const simple = {
      bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code",
    }[entity.type];
    if (simple) return document.createElement(simple);
    switch (entity.type) {
      case "pre": {
        const block = document.createElement("pre");
        if (entity.language) block.dataset.language = entity.language;
        return block;
      }
      case "spoiler": {
        const hidden = document.createElement("span");
        hidden.className = "spoiler";
        hidden.title = "Spoiler: click to show";
        hidden.addEventListener("click", () => hidden.classList.add("revealed"));
        return hidden;
      }
      case "blockquote":
      case "expandable_blockquote": {
        const quote = document.createElement("blockquote");
        if (entity.type === "expandable_blockquote") {
          quote.className = "expandable";
          quote.addEventListener("click", () => quote.classList.toggle("open"));
        }
        return quote;
      }
      case "text_link": {
        const href = safeUrl(entity.url || "");
        if (!href) return document.createElement("span");
        const link = document.createElement("a");
        link.href = href;
        link.title = href;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        return link;
      }
      case "text_mention": {
        const mention = document.createElement("span");
        mention.className = "mention";
        return mention;
      }
      case "date_time": {
        const time = document.createElement("time");
        const when = new Date(entity.unix_time * 1000);
        time.dateTime = when.toISOString();
        time.title = new Intl.DateTimeFormat(context.language, {
          timeZone: context.zone, dateStyle: "full", timeStyle: "long",
        }).format(when);
        if (entity.date_time_format) {
          time.textContent = dateTimeText(entity, context);
          time.dataset.sealed = "1"; // shows the formatted instant instead of the text
        }
        return time;
      }
      default:
        return null; // hashtags, custom emoji...: their text, unformatted
    }
  }

  function appendText(parent, text, commands, context) {
    if (!commands || !context.onCommand) {
      parent.append(document.createTextNode(text));
      return;
    }
    let last = 0;
    for (const match of text.matchAll(COMMAND)) {
      const start = match.index + match[1].length;
      parent.append(document.createTextNode(text.slice(last, start)));
      const command = document.createElement("span");
      command.className = "command";
      command.textContent = match[2];
      command.addEventListener("click", () => context.onCommand(match[2]));
      parent.append(command);
      last = start + match[2].length;
    }
    parent.append(document.createTextNode(text.slice(last)));
  }

  // text + entities -> a fragment. Overlaps are split at every boundary and nested again,
  // outer entities first, as Telegram's apps draw them.
  function render(text, entities, context) {
    const root = document.createDocumentFragment();
    const sorted = (entities || [])
      .filter((e) => e.length > 0 && e.offset >= 0 && e.offset < text.length)
      .slice()
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    const cuts = new Set([0, text.length]);
    for (const entity of sorted) {
      cuts.add(entity.offset);
      cuts.add(Math.min(entity.offset + entity.length, text.length));
    }
    const points = [...cuts].sort((a, b) => a - b);
    let stack = [{ entity: null, node: root, sealed: false, commands: true }];
    for (let index = 0; index + 1 < points.length; index += 1) {
      const [from, to] = [points[index], points[index + 1]];
      const active = sorted.filter((e) => e.offset <= from && e.offset + e.length >= to);
      let keep = 1;
      while (keep < stack.length && active.includes(stack[keep].entity)) keep += 1;
      stack = stack.slice(0, keep);
      for (const entity of active) {
        if (stack.some((open) => open.entity === entity)) continue;
        const top = stack[stack.length - 1];
        const made = element(entity, context);
        const node = made || document.createElement("span");
        if (!top.sealed) top.node.append(node);
        stack.push({
          entity,
          node,
          sealed: top.sealed || node.dataset.sealed === "1",
          commands: top.commands && !NO_COMMANDS.has(entity.type),
        });
      }
      const top = stack[stack.length - 1];
      if (!top.sealed) appendText(top.node, text.slice(from, to), top.commands, context);
    }
    return root;
  }

  return { render, safeUrl };
})();
