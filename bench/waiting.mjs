// An agent waiting at its prompt, as most of 100 lanes are most of the time: it draws its screen
// once (a header, a few lines of its last answer, a prompt box: ~20 lines), then only redraws
// one status line once a second (a clock, as agents' footers show the elapsed time), forever.
// Used by bench/scale.mjs as the idle lane; bench/spinner.mjs is the busier 10 fps shape.
const started = Date.now();
let out = '\x1b[2J\x1b[H';
out += '\x1b[1;35m✻ Welcome to the bench agent\x1b[0m\r\n\r\n';
out += '\x1b[2m> refactor the parser and keep the tests green\x1b[0m\r\n\r\n';
for (let i = 1; i <= 8; i++) out += `  ● step ${i}: edited src/module${i}.ts (+${i * 3} -${i})\r\n`;
out += '\r\n  Done. 8 files changed; the tests pass.\r\n\r\n';
out += '╭' + '─'.repeat(70) + '╮\r\n';
out += '│ > ' + ' '.repeat(67) + '│\r\n';
out += '╰' + '─'.repeat(70) + '╯\r\n';
process.stdout.write(out);
const status = () => {
  const s = Math.floor((Date.now() - started) / 1000);
  // row 19, under the prompt box; the cursor goes back into the box, where a prompt waits
  process.stdout.write(`\x1b[19;1H\x1b[2K  \x1b[2m? for shortcuts · waiting ${s}s\x1b[0m\x1b[17;5H`);
};
status();
setInterval(status, 1000);
