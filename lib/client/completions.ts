/**
 * Shell completion scripts for the client, for bash, zsh and fish, written from the same data
 * the argument parser reads ({@link OPERATIONS}, {@link OPTIONS}, {@link WORDS} in `args.ts`),
 * so a new operation or option is completed without touching this file.
 *
 * The scripts complete operations, options, `on`/`with`, file paths after `with`, and child
 * names: for those they run the client's hidden `__complete-children` operation with the
 * `on HOST` and `with KEY.pem` words already typed, which prints one name a line, or nothing
 * when no server answers in time.
 *
 * Owns: the text of the scripts, and {@link childNamesOf} (the names `__complete-children`
 * prints). Does not own: parsing, asking servers, printing.
 *
 * @module
 */
import { COMPLETE_CHILDREN, OPERATIONS, OPTIONS, WORDS } from "./args.ts";
import type { OperationSpec, OptionSpec, Shell, WordSpec } from "./args.ts";
import { checkDataOf } from "./fanout.ts";
import type { HostResult } from "./fanout.ts";

/** The name the client is installed as, and the scripts complete. */
export const PROGRAM = "supervisor-ts-client";

/** Every word that goes into a script unquoted must be plain: letters, digits, `.`, `_`, `-`. */
function plain(word: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(word)) {
    throw new Error(`Cannot put ${JSON.stringify(word)} in a completion script unquoted`);
  }
  return word;
}

/** Text in single quotes: bash and zsh close the quotes around a `'`; fish escapes `'` and `\`. */
function quoted(text: string, shell: Shell): string {
  if (/[\n\r]/.test(text)) throw new Error(`Cannot quote ${JSON.stringify(text)} on one line`);
  return shell === "fish"
    ? `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`
    : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** What the scripts need to know, derived from the parser's tables. */
interface Grammar {
  readonly program: string;
  readonly operations: readonly OperationSpec[];
  /** Every option, in the parser's order. */
  readonly options: readonly OptionSpec[];
  readonly words: readonly WordSpec[];
  /** Options and words that take the next argument as their value, long and short. */
  readonly takesValue: readonly string[];
}

function grammar(program: string): Grammar {
  const options: readonly OptionSpec[] = OPTIONS;
  const words: readonly WordSpec[] = WORDS;
  return {
    program: plain(program),
    operations: OPERATIONS,
    options,
    words,
    takesValue: [
      ...words.map((w) => w.name),
      ...options.filter((o) => o.value !== undefined).flatMap((o) =>
        o.short === undefined ? [o.name] : [o.name, o.short]
      ),
    ].map(plain),
  };
}

/** Operations whose operand is a child, split by whether the child must be given. */
function childOps(g: Grammar, required: boolean): string[] {
  return g.operations.filter((o) => o.operand.kind === "child" && o.operand.required === required)
    .map((o) => plain(o.name));
}

function functionName(program: string): string {
  return `_${program.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** The completion script for `shell`, completing `program`. */
export function completionScript(shell: Shell, program = PROGRAM): string {
  const g = grammar(program);
  switch (shell) {
    case "bash":
      return bashScript(g);
    case "zsh":
      return zshScript(g);
    case "fish":
      return fishScript(g);
  }
}

/** The children named in successful `check` answers, each once, sorted. */
export function childNamesOf(results: readonly HostResult[]): string[] {
  const names = new Set<string>();
  for (const result of results) {
    for (const { name } of checkDataOf(result)?.children ?? []) {
      if (name !== "" && !/\s/.test(name)) names.add(name);
    }
  }
  return [...names].sort();
}

/** One `case` arm, or none when no pattern matches it. */
function arm(indent: string, patterns: readonly string[], body: string): string[] {
  if (patterns.length === 0) return [];
  return [`${indent}${patterns.map(plain).join("|")})${body === "" ? "" : ` ${body}`}`];
}

/** A whole `case` statement (bash and zsh share the syntax), or nothing when it has no arms. */
function caseOf(indent: string, subject: string, arms: readonly string[]): string[] {
  return arms.length === 0 ? [] : [`${indent}case ${subject} in`, ...arms, `${indent}esac`];
}

/** The parser's data, as the lists the scripts use. */
interface Lists {
  readonly fn: string;
  readonly ops: readonly string[];
  readonly clientOps: readonly string[];
  readonly needChild: readonly string[];
  readonly mayChild: readonly string[];
  readonly choices: readonly { readonly op: string; readonly values: readonly string[] }[];
  readonly keywords: readonly { readonly op: string; readonly words: readonly string[] }[];
  /** The values of the word after the child (`signal web HUP`), by operation. */
  readonly nexts: readonly { readonly op: string; readonly values: readonly string[] }[];
  readonly words: readonly string[];
  readonly fileWords: readonly string[];
  readonly commonOptions: readonly OptionSpec[];
  /** Options that go with some operations only, by operation. */
  readonly onlyOptions: ReadonlyMap<string, readonly OptionSpec[]>;
  /** Options that go with some operations only, grouped by the operations they go with. */
  readonly optionGroups: readonly {
    readonly ops: readonly string[];
    readonly options: readonly OptionSpec[];
  }[];
}

function lists(g: Grammar): Lists {
  const onlyOptions = new Map<string, OptionSpec[]>();
  for (const o of g.options) {
    for (const op of o.only ?? []) onlyOptions.set(op, [...(onlyOptions.get(op) ?? []), o]);
  }
  const groups = new Map<string, { ops: string[]; options: OptionSpec[] }>();
  for (const o of g.options) {
    if (o.only === undefined) continue;
    const key = o.only.join(" ");
    const group = groups.get(key) ?? { ops: o.only.map(plain), options: [] };
    group.options.push(o);
    groups.set(key, group);
  }
  return {
    fn: functionName(g.program),
    ops: g.operations.map((o) => plain(o.name)),
    clientOps: g.operations.filter((o) => !o.server).map((o) => plain(o.name)),
    needChild: childOps(g, true),
    mayChild: childOps(g, false),
    choices: g.operations.flatMap((o) =>
      o.operand.kind === "choice"
        ? [{ op: plain(o.name), values: o.operand.values.map(plain) }]
        : []
    ),
    keywords: g.operations.flatMap((o) =>
      o.operand.kind === "child" && o.operand.keywords.length > 0
        ? [{ op: plain(o.name), words: o.operand.keywords.map(plain) }]
        : []
    ),
    nexts: g.operations.flatMap((o) =>
      o.operand.kind === "child" && o.operand.next !== undefined
        ? [{ op: plain(o.name), values: o.operand.next.values.map(plain) }]
        : []
    ),
    words: g.words.map((w) => plain(w.name)),
    fileWords: g.words.filter((w) => w.file).map((w) => plain(w.name)),
    commonOptions: g.options.filter((o) => o.only === undefined),
    onlyOptions,
    optionGroups: [...groups.values()],
  };
}

function header(g: Grammar, shell: Shell, install: string): string {
  return [
    `# ${shell} completion for ${g.program}: operations, options, child names, key files.`,
    `# Written by "${g.program} completions ${shell}"; ${install}`,
    `# Child names come from "${g.program} ${COMPLETE_CHILDREN} [on HOST]... [with KEY.pem]",`,
    `# which asks the server named on the command line and prints nothing when it cannot.`,
  ].join("\n");
}

function bashScript(g: Grammar): string {
  const l = lists(g);
  const fn = l.fn;
  const longNames = (options: readonly OptionSpec[]) => options.map((o) => plain(o.name));
  const allOnly = [...new Set([...l.onlyOptions.values()].flat())];
  const skip = g.takesValue.join("|");
  return [
    header(g, "bash", `load it with: source <(${g.program} completions bash)`),
    "",
    `# Sets ${fn}_words and ${fn}_cword from COMP_WORDS, gluing back what bash`,
    `# split at COMP_WORDBREAKS: "on 127.0.0.1:4000" arrives as "on" "127.0.0.1" ":" "4000".`,
    `${fn}_split() {`,
    `  ${fn}_words=()`,
    `  ${fn}_cword=0`,
    `  local i n=-1 word rest="\${COMP_LINE-}" trimmed`,
    `  for ((i = 0; i < \${#COMP_WORDS[@]}; i++)); do`,
    `    word="\${COMP_WORDS[i]}"`,
    `    trimmed="\${rest#"\${rest%%[![:space:]]*}"}"`,
    `    if ((i > 0)) && [[ -n \${COMP_LINE+set} && $trimmed == "$rest" ]]; then`,
    `      ${fn}_words[n]+="$word"`,
    `    else`,
    `      ${fn}_words[++n]="$word"`,
    `    fi`,
    `    rest="\${trimmed#"$word"}"`,
    `    ((i == COMP_CWORD)) && ${fn}_cword=$n`,
    `  done`,
    `  return 0`,
    `}`,
    "",
    `# A word as the client gets it from the shell: quotes around it removed, a leading ~/ expanded.`,
    `${fn}_unquote() {`,
    `  local value="$1"`,
    `  if ((\${#value} >= 2)); then`,
    `    case "$value" in`,
    `      \\"*\\" | \\'*\\') value="\${value:1:\${#value}-2}" ;;`,
    `    esac`,
    `  fi`,
    `  case "$value" in`,
    `    "~/"*) value="$HOME/\${value#"~/"}" ;;`,
    `  esac`,
    `  printf '%s' "$value"`,
    `}`,
    "",
    `# The children of the servers named by the on/with words given, one a line.`,
    `${fn}_children() {`,
    `  local self="$1"`,
    `  shift`,
    `  "$self" ${COMPLETE_CHILDREN} "$@" 2>/dev/null`,
    `}`,
    "",
    `${fn}() {`,
    `  local ${fn}_words ${fn}_cword`,
    `  ${fn}_split`,
    `  local words=("\${${fn}_words[@]}") cword=$${fn}_cword`,
    `  local cur="\${words[cword]}" prev="" self="\${words[0]}"`,
    `  ((cword > 0)) && prev="\${words[cword - 1]}"`,
    `  [[ $self == "~/"* ]] && self="$HOME/\${self#"~/"}"`,
    `  COMPREPLY=()`,
    `  case "$prev" in`,
    ...arm("    ", l.fileWords, ""),
    ...(l.fileWords.length === 0 ? [] : [
      `      local IFS=$'\\n'`,
      `      COMPREPLY=($(compgen -f -- "$cur"))`,
      `      compopt -o filenames 2>/dev/null`,
      `      return 0`,
      `      ;;`,
    ]),
    `    ${skip}) return 0 ;;`,
    `  esac`,
    `  local i word op="" operands=0 target=()`,
    `  for ((i = 1; i < cword; i++)); do`,
    `    word="\${words[i]}"`,
    `    case "$word" in`,
    `      ${l.words.join("|")})`,
    `        ((i += 1))`,
    `        ((i < cword)) && target+=("$word" "$(${fn}_unquote "\${words[i]}")")`,
    `        ;;`,
    `      ${skip}) ((i += 1)) ;;`,
    `      -*) ;;`,
    `      *) if [[ -z $op ]]; then op="$word"; else ((operands += 1)); fi ;;`,
    `    esac`,
    `  done`,
    `  if [[ $cur == -* ]]; then`,
    `    local flags="${longNames(l.commonOptions).join(" ")}"`,
    ...caseOf("    ", `"$op"`, [
      ...(allOnly.length === 0 ? [] : [`      "") flags+=" ${longNames(allOnly).join(" ")}" ;;`]),
      ...[...l.onlyOptions].flatMap(([op, options]) =>
        arm("      ", [op], `flags+=" ${longNames(options).join(" ")}" ;;`)
      ),
    ]),
    `    COMPREPLY=($(compgen -W "$flags" -- "$cur"))`,
    `    return 0`,
    `  fi`,
    `  # A word bash split at ":" or "=" is a value being typed: nothing to offer.`,
    `  [[ $cur == *[:=]* ]] && return 0`,
    `  if [[ -z $op ]]; then`,
    `    COMPREPLY=($(compgen -W "${[...l.ops, ...l.words].join(" ")}" -- "$cur"))`,
    `    return 0`,
    `  fi`,
    `  local choices="${l.words.join(" ")}"`,
    ...caseOf("  ", `"$op"`, arm("    ", l.clientOps, `choices="" ;;`)),
    `  if ((operands == 0)); then`,
    ...caseOf("    ", `"$op"`, [
      ...l.choices.flatMap((c) => arm("      ", [c.op], `choices="${c.values.join(" ")}" ;;`)),
      ...arm("      ", l.needChild, `choices="$(${fn}_children "$self" "\${target[@]}")" ;;`),
      ...arm("      ", l.mayChild, `choices+=" $(${fn}_children "$self" "\${target[@]}")" ;;`),
    ]),
    ...caseOf(
      "    ",
      `"$op"`,
      l.keywords.flatMap((k) => arm("      ", [k.op], `choices+=" ${k.words.join(" ")}" ;;`)),
    ),
    `  fi`,
    ...(l.nexts.length === 0 ? [] : [
      `  if ((operands == 1)); then`,
      ...caseOf(
        "    ",
        `"$op"`,
        l.nexts.flatMap((n) => arm("      ", [n.op], `choices="${n.values.join(" ")}" ;;`)),
      ),
      `  fi`,
    ]),
    `  local IFS=$' \\t\\n'`,
    `  COMPREPLY=($(compgen -W "$choices" -- "$cur"))`,
    `  return 0`,
    `}`,
    "",
    `complete -F ${fn} ${g.program}`,
    "",
  ].join("\n");
}

/** `'name:about'` lines of a zsh `_describe` array. */
function described(indent: string, items: readonly { name: string; about: string }[]): string[] {
  return items.map((i) => {
    if (i.about.includes(":")) throw new Error(`A description may not hold ":": ${i.about}`);
    return `${indent}${quoted(`${plain(i.name)}:${i.about}`, "zsh")}`;
  });
}

function zshScript(g: Grammar): string {
  const l = lists(g);
  const fn = l.fn;
  const skip = g.takesValue.join("|");
  const unquoted = (expr: string) => `"\${\${(Q)${expr}}/#\\~/$HOME}"`;
  return [
    `#compdef ${g.program}`,
    header(
      g,
      "zsh",
      `save it as _${g.program} in a directory of $fpath, or load it with: source <(${g.program} completions zsh)`,
    ),
    "",
    `${fn}() {`,
    `  local -a op_list word_list option_list target children`,
    `  op_list=(`,
    ...described("    ", g.operations),
    `  )`,
    `  word_list=(`,
    ...described("    ", g.words),
    `  )`,
    `  local i word op='' operands=0 cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}`,
    `  local self=${unquoted("words[1]")}`,
    `  case $prev in`,
    ...arm("    ", l.fileWords, "_files; return ;;"),
    ...g.words.filter((w) => !w.file).flatMap((w) =>
      arm("    ", [w.name], `_message -e hosts ${quoted(w.value, "zsh")}; return ;;`)
    ),
    ...g.options.filter((o) => o.value !== undefined).flatMap((o) =>
      arm(
        "    ",
        o.short === undefined ? [o.name] : [o.name, o.short],
        `_message -e values ${quoted(`${o.value}, ${o.about}`, "zsh")}; return ;;`,
      )
    ),
    `  esac`,
    `  for (( i = 2; i < CURRENT; i++ )); do`,
    `    word=\${words[i]}`,
    `    case $word in`,
    `      ${l.words.join("|")})`,
    `        (( i += 1 ))`,
    `        (( i < CURRENT )) && target+=("$word" ${unquoted("words[i]")})`,
    `        ;;`,
    `      ${skip}) (( i += 1 )) ;;`,
    `      -*) ;;`,
    `      *) if [[ -z $op ]]; then op=$word; else (( operands += 1 )); fi ;;`,
    `    esac`,
    `  done`,
    `  if [[ $cur == -* ]]; then`,
    `    option_list=(`,
    ...described("      ", l.commonOptions),
    `    )`,
    ...l.optionGroups.flatMap(({ ops, options }) => [
      `    if [[ -z $op || $op == ${ops.length === 1 ? ops[0] : `(${ops.join("|")})`} ]]; then`,
      `      option_list+=(`,
      ...described("        ", options),
      `      )`,
      `    fi`,
    ]),
    `    _describe -t options option option_list`,
    `    return`,
    `  fi`,
    `  if [[ -z $op ]]; then`,
    `    _describe -t operations operation op_list`,
    `    _describe -t words word word_list`,
    `    return`,
    `  fi`,
    `  if (( operands == 0 )); then`,
    ...caseOf("    ", "$op", [
      ...l.choices.flatMap((c) =>
        arm("      ", [c.op], `compadd -- ${c.values.join(" ")}; return ;;`)
      ),
      ...arm("      ", [...l.needChild, ...l.mayChild], ""),
      ...(l.needChild.length + l.mayChild.length === 0 ? [] : [
        `        children=(\${(f)"$("$self" ${COMPLETE_CHILDREN} "\${target[@]}" 2>/dev/null)"})`,
        `        compadd -- $children`,
        `        ;;`,
      ]),
    ]),
    ...caseOf(
      "    ",
      "$op",
      l.keywords.flatMap((k) => arm("      ", [k.op], `compadd -- ${k.words.join(" ")} ;;`)),
    ),
    ...caseOf("    ", "$op", arm("      ", l.needChild, "return ;;")),
    `  fi`,
    ...(l.nexts.length === 0 ? [] : [
      `  if (( operands == 1 )); then`,
      ...caseOf(
        "    ",
        "$op",
        l.nexts.flatMap((n) =>
          arm("      ", [n.op], `compadd -- ${n.values.join(" ")}; return ;;`)
        ),
      ),
      `  fi`,
    ]),
    ...caseOf("  ", "$op", arm("    ", l.clientOps, "return ;;")),
    `  _describe -t words word word_list`,
    `}`,
    "",
    `if [[ \${funcstack[1]} == _${g.program} ]]; then`,
    `  ${fn} "$@"`,
    `else`,
    `  compdef ${fn} ${g.program}`,
    `fi`,
    "",
  ].join("\n");
}

function fishScript(g: Grammar): string {
  const l = lists(g);
  const fn = l.fn;
  const c = `complete --command ${g.program}`;
  const skip = g.takesValue.join(" ");
  const tokens = "commandline --current-process --tokenize --cut-at-cursor";
  const completes: string[] = [`${c} --no-files`];
  for (const o of g.operations) {
    completes.push(
      `${c} --condition '${fn}_wants operation' --arguments ${plain(o.name)} --description ${
        quoted(o.about, "fish")
      }`,
    );
  }
  for (const w of g.words) {
    completes.push(
      `${c} --condition '${fn}_wants word' --arguments ${plain(w.name)} --description ${
        quoted(`${w.value}, ${w.about}`, "fish")
      }`,
    );
    if (w.file) completes.push(`${c} --condition '${fn}_after ${plain(w.name)}' --force-files`);
  }
  for (const o of g.operations) {
    const when = `--condition '${fn}_wants operand ${plain(o.name)}'`;
    if (o.operand.kind === "choice") {
      completes.push(
        `${c} ${when} --arguments ${
          quoted(o.operand.values.map(plain).join(" "), "fish")
        } --description ${quoted(o.operand.what, "fish")}`,
      );
    } else if (o.operand.kind === "child") {
      completes.push(`${c} ${when} --arguments '(${fn}_children)' --description child`);
      if (o.operand.keywords.length > 0) {
        completes.push(`${c} ${when} --arguments ${quoted(o.operand.keywords.join(" "), "fish")}`);
      }
      const next = o.operand.next;
      if (next !== undefined) {
        completes.push(
          `${c} --condition '${fn}_wants next ${plain(o.name)}' --arguments ${
            quoted(next.values.map(plain).join(" "), "fish")
          } --description ${quoted(next.what, "fish")}`,
        );
      }
    }
  }
  for (const o of g.options) {
    const parts = [c, `--long-option ${plain(o.name.slice(2))}`];
    if (o.short !== undefined) parts.push(`--short-option ${plain(o.short.slice(1))}`);
    if (o.value !== undefined) parts.push("--require-parameter --no-files");
    if (o.only !== undefined) {
      parts.push(`--condition '${fn}_goes_with ${o.only.map(plain).join(" ")}'`);
    }
    parts.push(`--description ${quoted(o.about, "fish")}`);
    completes.push(parts.join(" "));
  }
  return [
    header(
      g,
      "fish",
      `save it as ~/.config/fish/completions/${g.program}.fish, or load it with: ${g.program} completions fish | source`,
    ),
    "",
    `# What is typed before the cursor, without the command: "operation" prints the operation,`,
    `# "operands" how many words follow it, "target" the on/with words and their values, one a line.`,
    `function ${fn}_scan --argument-names what`,
    `    set --local tokens (${tokens})`,
    `    set --erase tokens[1]`,
    `    set --local op ''`,
    `    set --local operands 0`,
    `    set --local target`,
    `    set --local pending ''`,
    `    for token in $tokens`,
    `        if test -n "$pending"`,
    `            if contains -- $pending ${l.words.join(" ")}`,
    `                set --append target $pending (string replace --regex '^~/' "$HOME/" -- $token)`,
    `            end`,
    `            set pending ''`,
    `        else if contains -- $token ${skip}`,
    `            set pending $token`,
    `        else if string match --quiet -- '-*' $token`,
    `            continue`,
    `        else if test -z "$op"`,
    `            set op $token`,
    `        else`,
    `            set operands (math $operands + 1)`,
    `        end`,
    `    end`,
    `    switch $what`,
    `        case operation`,
    `            echo $op`,
    `        case operands`,
    `            echo $operands`,
    `        case target`,
    `            if set --query target[1]`,
    `                printf '%s\\n' $target`,
    `            end`,
    `    end`,
    `end`,
    "",
    `# The word before the cursor is one of the arguments.`,
    `function ${fn}_after`,
    `    set --local tokens (${tokens})`,
    `    test (count $tokens) -gt 1; and contains -- $tokens[-1] $argv`,
    `end`,
    "",
    `# Whether the word at the cursor may be: "operation", "word" (on/with), "operand OP" (the`,
    `# word after OP) or "next OP" (the one after that).`,
    `function ${fn}_wants --argument-names what op`,
    `    set --local tokens (${tokens})`,
    `    if test (count $tokens) -gt 1; and contains -- $tokens[-1] ${skip}`,
    `        return 1`,
    `    end`,
    `    set --local current (${fn}_scan operation)`,
    `    switch $what`,
    `        case operation`,
    `            test -z "$current"`,
    `        case word`,
    `            not contains -- "$current" ${l.clientOps.join(" ")}`,
    `        case operand`,
    `            test "$current" = "$op"; and test (${fn}_scan operands) -eq 0`,
    `        case next`,
    `            test "$current" = "$op"; and test (${fn}_scan operands) -eq 1`,
    `    end`,
    `end`,
    "",
    `# An option that goes with some operations is offered before any operation, or with those.`,
    `function ${fn}_goes_with`,
    `    set --local current (${fn}_scan operation)`,
    `    test -z "$current"; or contains -- "$current" $argv`,
    `end`,
    "",
    `# The children of the servers named on the command line, one a line; nothing when unreachable.`,
    `function ${fn}_children`,
    `    set --local self (${tokens})[1]`,
    `    set self (string replace --regex '^~/' "$HOME/" -- $self)`,
    `    $self ${COMPLETE_CHILDREN} (${fn}_scan target) 2>/dev/null`,
    `end`,
    "",
    ...completes,
    "",
  ].join("\n");
}
