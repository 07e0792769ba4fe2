// Formats messages with vue-i18n 9.14's own compiler (the version Chatwoot
// v3.15.0 ships) and prints what a user would see. Input: a JSON object of
// key → message as argv[2]; output: a JSON object of key → displayed text.
const { createCoreContext, translate, compile, registerMessageCompiler } = require('@intlify/core-base');

registerMessageCompiler(compile);
const messages = JSON.parse(process.argv[2]);
const ctx = createCoreContext({ locale: 'en', messages: { en: messages }, missingWarn: false, fallbackWarn: false, warnHtmlMessage: false });
const out = {};
for (const key of Object.keys(messages)) out[key] = translate(ctx, key, {});
process.stdout.write(JSON.stringify(out));
