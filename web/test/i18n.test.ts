import { test } from "node:test";
import assert from "node:assert/strict";
import { LANGS, en, pickLang, type Lang, type Strings } from "../src/widget/i18n";
import de from "../src/widget/i18n-de";
import fr from "../src/widget/i18n-fr";
import { SHARE_STRINGS } from "../src/widget/share-i18n";
import { COBROWSE_STRINGS } from "../src/widget/cobrowse-i18n";
import { IMAGE_STRINGS } from "../src/widget/images-i18n";
import { AWAY_STRINGS } from "../src/widget/away-i18n";
import { LINKS_STRINGS } from "../src/widget/links-i18n";
import { END_STRINGS } from "../src/widget/end-i18n";
import { JOIN_STRINGS } from "../src/join/i18n";

const WIDGET: Record<Lang, Strings> = { en, de, fr };

/** Every table a visitor reads from, by name: each has one entry per language. */
const TABLES: Record<string, Record<Lang, unknown>> = {
  widget: WIDGET,
  share: SHARE_STRINGS,
  cobrowse: COBROWSE_STRINGS,
  images: IMAGE_STRINGS,
  away: AWAY_STRINGS,
  links: LINKS_STRINGS,
  end: END_STRINGS,
  join: JOIN_STRINGS,
};

/** `path → string` for every leaf of a (nested) table. */
function leaves(value: unknown, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) for (const [p, leaf] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(p, leaf);
  } else out.set(prefix, value);
  return out;
}

test("pickLang prefers data-lang, then the browser, then English", () => {
  assert.equal(pickLang("de", ["fr-FR"]), "de");
  assert.equal(pickLang("DE-at", []), "de");
  assert.equal(pickLang("xx", ["fr-CA", "de"]), "fr");
  assert.equal(pickLang(null, ["es-ES", "de-CH"]), "de");
  assert.equal(pickLang(undefined, ["ja"]), "en");
  assert.equal(pickLang("", []), "en");
});

test("every table has every language, every key, no empty string and the same placeholders", () => {
  for (const [name, table] of Object.entries(TABLES)) {
    assert.deepEqual(Object.keys(table).sort(), [...LANGS].sort(), `${name}: languages`);
    const reference = leaves(table.en);
    // The smallest table (the link bundle's) has one.
    assert.ok(reference.size >= 1, `${name}: has strings`);
    for (const lang of LANGS) {
      const tr = leaves(table[lang]);
      assert.deepEqual([...tr.keys()].sort(), [...reference.keys()].sort(), `${name}.${lang}: keys`);
      for (const [key, text] of tr) {
        assert.equal(typeof text, "string", `${name}.${lang}.${key} is text`);
        assert.ok((text as string).trim().length > 0, `${name}.${lang}.${key} is empty`);
        const want = (reference.get(key) as string).match(/\{\w+\}/g) ?? [];
        assert.deepEqual(((text as string).match(/\{\w+\}/g) ?? []).sort(), want.sort(), `${name}.${lang}.${key}: placeholders`);
      }
    }
  }
});

test("the translations are translations: most German and French strings differ from the English", () => {
  for (const [name, table] of Object.entries(TABLES)) {
    const reference = leaves(table.en);
    for (const lang of LANGS.filter((l) => l !== "en")) {
      const tr = leaves(table[lang]);
      const same = [...tr].filter(([k, v]) => v === reference.get(k)).map(([k]) => k);
      // Words that are the same in both ("Message", "Logo", "Support") are few.
      assert.ok(same.length <= Math.max(2, reference.size / 10), `${name}.${lang} left in English: ${same.join(", ")}`);
    }
  }
});

