import { test } from "node:test";
import assert from "node:assert/strict";
import { SHARE_BLOCKED, STRINGS, pickLang } from "../src/widget/i18n";

test("pickLang prefers data-lang, then the browser, then English", () => {
  assert.equal(pickLang("de", ["fr-FR"]), "de");
  assert.equal(pickLang("DE-at", []), "de");
  assert.equal(pickLang("xx", ["fr-CA", "de"]), "fr");
  assert.equal(pickLang(null, ["es-ES", "de-CH"]), "de");
  assert.equal(pickLang(undefined, ["ja"]), "en");
  assert.equal(pickLang("", []), "en");
});

test("every language has every string, with the same placeholders", () => {
  const keys = Object.keys(STRINGS.en).sort();
  for (const [lang, table] of Object.entries(STRINGS)) {
    assert.deepEqual(Object.keys(table).sort(), keys, lang);
    for (const k of keys) {
      const en = (STRINGS.en as unknown as Record<string, string>)[k];
      const tr = (table as unknown as Record<string, string>)[k];
      assert.ok(tr.length > 0, `${lang}.${k} empty`);
      assert.deepEqual(tr.match(/\{\w+\}/g) ?? [], en.match(/\{\w+\}/g) ?? [], `${lang}.${k} placeholders`);
    }
  }
});

test("the standing-block texts exist in every language, none empty", () => {
  assert.deepEqual(Object.keys(SHARE_BLOCKED).sort(), Object.keys(STRINGS).sort());
  const keys = Object.keys(SHARE_BLOCKED.en).sort();
  for (const [lang, table] of Object.entries(SHARE_BLOCKED)) {
    assert.deepEqual(Object.keys(table).sort(), keys, lang);
    for (const v of Object.values(table)) assert.ok(v.length > 0, lang);
  }
});
