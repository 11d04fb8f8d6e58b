#!/usr/bin/env python3
"""Generates the C++ protocol messages from src/protocol/messages/*.msg.

Three parts: a parser (text -> model, with file:line errors), the model
(ApiFile / Struct / Field) and an emitter (model -> C++). The format is
documented in src/protocol/messages/FORMAT.md.

usage: generate.py <out_dir> <file.msg>...
Writes <out_dir>/protocol/generated/<stem>.h, <stem>.cc, <stem>_testing.cc
plus api_registry.cc, all_messages.h and fill_random.h (tests only); files are only rewritten when their
content changes so that ninja (restat) recompiles only what changed.
"""
import os
import re
import sys

PRIMITIVES = {
    # name: (C++ type, reader/writer suffix, min wire size in an array)
    'bool': ('bool', 'Bool', 1), 'int8': ('int8_t', 'Int8', 1),
    'int16': ('int16_t', 'Int16', 2), 'int32': ('int32_t', 'Int32', 4),
    'int64': ('int64_t', 'Int64', 8), 'uint16': ('uint16_t', 'Uint16', 2),
    'uint32': ('uint32_t', 'Uint32', 4), 'float64': ('double', 'Float64', 8),
    'uuid': ('Uuid', 'Uuid', 16), 'string': ('std::string', 'String', 1),
    'bytes': ('Bytes', 'Bytes', 1), 'records': ('Records', 'Records', 1),
}
INT_RANGES = {'int8': 8, 'int16': 16, 'int32': 32, 'int64': 64}
# Nesting is fixed by the definitions, never by the bytes decoded (no type
# contains itself), so decoding recurses at most this deep whatever the input:
# the cap on nesting is enforced here, at build time. Kafka's deepest message
# uses 4 levels.
MAX_NESTING = 8
UINT_RANGES = {'uint16': 16, 'uint32': 32}
NULLABLE_KINDS = ('string', 'bytes', 'records')
RESERVED = {'alignas', 'and', 'auto', 'bool', 'break', 'case', 'catch', 'char', 'class', 'const',
            'continue', 'default', 'delete', 'do', 'double', 'else', 'enum', 'explicit', 'export',
            'extern', 'false', 'float', 'for', 'friend', 'goto', 'if', 'inline', 'int', 'long',
            'namespace', 'new', 'not', 'operator', 'or', 'private', 'protected', 'public',
            'register', 'return', 'short', 'signed', 'sizeof', 'static', 'struct', 'switch',
            'template', 'this', 'throw', 'true', 'try', 'typedef', 'typename', 'union',
            'unsigned', 'using', 'virtual', 'void', 'volatile', 'while', 'xor',
            'unknown_tagged_fields'}


class MsgError(Exception):
    def __init__(self, path, line, msg):
        super().__init__(f'{path}:{line}: error: {msg}')


# ---------------------------------------------------------------- model

class Versions:
    """An inclusive version range; hi is None for 'n+'."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def clip(self, lo, hi):
        """Restricted to lo..hi; an upper bound at or past hi becomes open."""
        return Versions(max(self.lo, lo), None if self.hi is None or self.hi >= hi else self.hi)

    def cond(self, var='version_'):
        """A C++ condition true for versions in the range (of a message lo..hi)."""
        parts = []
        if self.lo > 0:
            parts.append(f'{var} >= {self.lo}')
        if self.hi is not None:
            parts.append(f'{var} <= {self.hi}')
        return ' && '.join(parts) if parts else 'true'

    def empty(self):
        return self.hi is not None and self.hi < self.lo


class Field:
    def __init__(self, name, type_, line):
        self.name, self.type, self.line = name, type_, line
        self.versions = None      # Versions (clipped to the message range)
        self.nullable = None      # Versions or None
        self.default = None       # raw text or None
        self.tag = None
        self.ignorable = False
        self.classic = False      # 'flexible none': never compact
        self.children = []        # for inline struct types
        self.struct = None        # resolved Struct for struct types

    @property
    def is_array(self):
        return self.type.startswith('[]')

    @property
    def elem(self):
        return self.type[2:] if self.is_array else self.type

    @property
    def is_struct(self):
        return self.elem not in PRIMITIVES


class Struct:
    def __init__(self, name, fields, line):
        self.name, self.fields, self.line = name, fields, line


class Message:
    def __init__(self, name, kind):
        self.name, self.kind = name, kind   # kind: request/response/header
        self.fields, self.line = [], 0
        self.structs = []                  # nested structs, children first


class ApiFile:
    def __init__(self, path):
        self.path, self.stem = path, os.path.splitext(os.path.basename(path))[0]
        self.kind = None                   # 'api' or 'header'
        self.name, self.key, self.lo, self.hi, self.flexible = None, None, 0, 0, None
        self.messages, self.common = [], {}


# ---------------------------------------------------------------- parser

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\S+')
VERSIONS = re.compile(r'^(\d+)(\+|-(\d+))?$')


def tokenize(text):
    out = []
    for t in TOKEN.findall(text):
        if t.startswith('#'):
            break
        out.append(t)
    return out


class Parser:
    def __init__(self, path):
        self.path, self.api = path, ApiFile(path)

    def fail(self, line, msg):
        raise MsgError(self.path, line, msg)

    def versions(self, tok, line):
        m = VERSIONS.match(tok)
        if not m:
            self.fail(line, f'bad version range "{tok}" (expected "3+", "0-4" or "5")')
        lo = int(m.group(1))
        hi = None if m.group(2) == '+' else int(m.group(3)) if m.group(3) else lo
        if hi is not None and hi < lo:
            self.fail(line, f'empty version range "{tok}"')
        return Versions(lo, hi)

    def parse(self, text):
        lines = []
        for no, raw in enumerate(text.splitlines(), 1):
            if '\t' in raw[:len(raw) - len(raw.lstrip())]:
                self.fail(no, 'tabs are not allowed in indentation; use two spaces per level')
            toks = tokenize(raw)
            if toks:
                indent = len(raw) - len(raw.lstrip(' '))
                if indent % 2:
                    self.fail(no, f'indentation of {indent} spaces is not a multiple of two')
                lines.append((no, indent // 2, toks))
        if not lines:
            self.fail(1, 'empty definition (expected an "api" or "header" line)')
        self.parse_opening(*lines[0])
        i, n = 1, len(lines)
        while i < n:
            no, depth, toks = lines[i]
            if depth != 0:
                self.fail(no, f'unexpected indentation before a section (got "{toks[0]}")')
            word = toks[0]
            if self.api.kind == 'api' and word in ('request', 'response') and len(toks) == 1:
                suffix = 'Request' if word == 'request' else 'Response'
                if any(m.kind == word for m in self.api.messages):
                    self.fail(no, f'second "{word}" section')
                msg = Message(self.api.name + suffix, word)
            elif self.api.kind == 'header' and word == 'fields' and len(toks) == 1:
                if self.api.messages:
                    self.fail(no, 'second "fields" section')
                msg = Message(self.api.name, 'header')
            elif word == 'struct' and len(toks) == 2:
                msg = None
            else:
                self.fail(no, f'expected "request", "response", "struct <Name>" or "fields", got "{" ".join(toks)}"')
            fields, i = self.parse_fields(lines, i + 1, 1)
            if msg is None:
                if not re.match(r'^[A-Z][A-Za-z0-9]*$', toks[1]):
                    self.fail(no, f'struct name "{toks[1]}" must be CamelCase')
                if toks[1] in self.api.common:
                    self.fail(no, f'struct {toks[1]} declared twice')
                self.api.common[toks[1]] = Struct(toks[1], fields, no)
            else:
                msg.fields, msg.line = fields, no
                self.api.messages.append(msg)
        kinds = sorted(m.kind for m in self.api.messages)
        want = ['request', 'response'] if self.api.kind == 'api' else ['header']
        if kinds != want:
            self.fail(lines[-1][0], f'missing section: need {" and ".join(want)}')
        for msg in self.api.messages:
            self.resolve(msg)
        return self.api

    def parse_opening(self, no, depth, toks):
        a = self.api
        if toks[0] == 'api' and len(toks) == 8 and toks[2] == 'key' and toks[4] == 'versions' \
                and toks[6] == 'flexible':
            a.kind, a.name = 'api', toks[1]
            if not toks[3].isdigit():
                self.fail(no, f'api key "{toks[3]}" is not a number')
            a.key = int(toks[3])
            vers, flex = toks[5], toks[7]
        elif toks[0] == 'header' and len(toks) == 6 and toks[2] == 'versions' and toks[4] == 'flexible':
            a.kind, a.name = 'header', toks[1]
            vers, flex = toks[3], toks[5]
        else:
            self.fail(no, 'expected "api <Name> key <n> versions <lo>-<hi> flexible <v>+|none" '
                          'or "header <Name> versions <lo>-<hi> flexible <v>+|none"')
        if not re.match(r'^[A-Z][A-Za-z0-9]*$', a.name):
            self.fail(no, f'name "{a.name}" must be CamelCase')
        v = self.versions(vers, no)
        if v.hi is None:
            self.fail(no, 'the supported version range needs an upper bound ("0-9")')
        a.lo, a.hi = v.lo, v.hi
        if flex != 'none':
            if not re.match(r'^\d+\+$', flex):
                self.fail(no, f'flexible must be "<v>+" or "none", got "{flex}"')
            a.flexible = int(flex[:-1])

    def parse_fields(self, lines, i, depth):
        if depth > MAX_NESTING:
            self.fail(lines[i][0], f'structs nest deeper than {MAX_NESTING} levels')
        fields, names = [], set()
        while i < len(lines) and lines[i][1] >= depth:
            no, d, toks = lines[i]
            if d > depth:
                self.fail(no, f'field "{toks[0]}" is indented deeper than its parent allows')
            f = self.parse_field(no, toks)
            if f.name in names:
                self.fail(no, f'duplicate field "{f.name}"')
            names.add(f.name)
            i += 1
            if i < len(lines) and lines[i][1] > depth:
                if not f.is_struct:
                    self.fail(lines[i][0], f'fields nested under "{f.name}", whose type {f.type} is not a struct')
                f.children, i = self.parse_fields(lines, i, depth + 1)
            fields.append(f)
        return fields, i

    def parse_field(self, no, toks):
        if len(toks) < 2:
            self.fail(no, f'field "{toks[0]}" needs a type')
        name, type_ = toks[0], toks[1]
        if not re.match(r'^[a-z]([a-z0-9_]*[a-z0-9])?$', name):
            self.fail(no, f'field name "{name}" must be snake_case (not ending in "_")')
        if name in RESERVED:
            self.fail(no, f'field name "{name}" is reserved in the generated C++; rename it (e.g. "{name}_value")')
        nullable_all = type_.endswith('?')
        type_ = type_.rstrip('?')
        elem = type_[2:] if type_.startswith('[]') else type_
        if elem not in PRIMITIVES and not re.match(r'^[A-Z][A-Za-z0-9]*$', elem):
            self.fail(no, f'unknown type "{type_}" (primitives: {" ".join(PRIMITIVES)}; structs are CamelCase)')
        if type_.startswith('[]') and elem == 'records':
            self.fail(no, 'arrays of records are not supported')
        f = Field(name, type_, no)
        rest = toks[2:]
        if rest and VERSIONS.match(rest[0]):
            f.versions = self.versions(rest.pop(0), no)
        else:
            f.versions = Versions(self.api.lo, None)
        while rest:
            kw = rest.pop(0)
            if kw == 'ignorable':
                f.ignorable = True
                continue
            if not rest:
                self.fail(no, f'"{kw}" needs a value')
            val = rest.pop(0)
            if kw == 'nullable':
                f.nullable = self.versions(val, no)
            elif kw == 'default':
                f.default = val
            elif kw == 'tag':
                if not val.isdigit():
                    self.fail(no, f'tag "{val}" is not a non-negative number')
                f.tag = int(val)
            elif kw == 'flexible' and val == 'none':
                f.classic = True
            else:
                self.fail(no, f'unknown attribute "{kw}" (expected nullable, default, tag, ignorable, flexible none)')
        if nullable_all:
            if f.nullable:
                self.fail(no, 'both "?" and "nullable <versions>" given')
            f.nullable = Versions(f.versions.lo, f.versions.hi)
        self.check_field(no, f)
        return f

    def check_field(self, no, f):
        a = self.api
        f.versions = f.versions.clip(a.lo, a.hi)
        if f.versions.empty() or f.versions.lo > a.hi:
            self.fail(no, f'field "{f.name}" exists in no supported version ({a.lo}-{a.hi})')
        if f.nullable:
            if f.is_array or f.is_struct or f.elem in NULLABLE_KINDS:
                f.nullable = f.nullable.clip(f.versions.lo, a.hi if f.versions.hi is None else f.versions.hi)
            else:
                self.fail(no, f'type {f.type} cannot be nullable')
            if f.nullable.empty() or f.nullable.lo > a.hi:
                f.nullable = None
        if f.tag is not None:
            if a.flexible is None or f.versions.lo < a.flexible:
                self.fail(no, f'tagged field "{f.name}" must only exist in flexible versions ({a.flexible}+)'
                          if a.flexible is not None else 'tagged fields need flexible versions')
            if f.elem == 'records':
                self.fail(no, 'records cannot be a tagged field')
        if f.default is not None:
            self.check_default(no, f)

    def check_default(self, no, f):
        d, t = f.default, f.type
        if d == 'null':
            if not f.nullable:
                self.fail(no, f'default null for "{f.name}", which is never nullable')
        elif f.is_array or f.is_struct:
            self.fail(no, f'only "null" can be the default of {t}')
        elif t == 'bool':
            if d not in ('true', 'false'):
                self.fail(no, f'bool default must be true or false, got {d}')
        elif t in INT_RANGES or t in UINT_RANGES:
            try:
                v = int(d, 0)
            except ValueError:
                self.fail(no, f'{t} default "{d}" is not a number')
            bits = INT_RANGES.get(t) or UINT_RANGES[t]
            lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if t in INT_RANGES else (0, (1 << bits) - 1)
            if not lo <= v <= hi:
                self.fail(no, f'default {d} out of range for {t}')
        elif t == 'float64':
            try:
                float(d)
            except ValueError:
                self.fail(no, f'float64 default "{d}" is not a number')
        elif t == 'string':
            if not (len(d) >= 2 and d[0] == '"' and d[-1] == '"'):
                self.fail(no, f'string default must be quoted, got {d}')
        else:
            self.fail(no, f'{t} fields take no default (except null when nullable)')

    def resolve(self, msg):
        """Binds struct types to declarations; orders msg.structs children first."""
        seen = {}

        def visit(fields):
            tags = {}
            for f in fields:
                if f.tag is not None:
                    if f.tag in tags:
                        self.fail(f.line, f'tag {f.tag} already used by "{tags[f.tag]}"')
                    tags[f.tag] = f.name
                if not f.is_struct:
                    continue
                if f.children:
                    if f.elem in self.api.common:
                        self.fail(f.line, f'{f.elem} has fields here and is also a top-level struct')
                    if f.elem in seen:
                        self.fail(f.line, f'struct {f.elem} defined twice in {msg.name}')
                    s = Struct(f.elem, f.children, f.line)
                    seen[f.elem] = s
                    visit(s.fields)
                    msg.structs.append(s)
                elif f.elem in self.api.common:
                    s = self.api.common[f.elem]
                    if f.elem not in seen:
                        seen[f.elem] = s
                        visit(s.fields)
                        msg.structs.append(s)
                else:
                    self.fail(f.line, f'struct type {f.elem} has no fields (indent them below the field) '
                                      f'and no top-level "struct {f.elem}"')
                f.struct = seen[f.elem]
        visit(msg.fields)


# ---------------------------------------------------------------- emitter

def cpp_elem(f):
    return f.elem if f.is_struct else PRIMITIVES[f.elem][0]


def cpp_type(f):
    t = f'std::vector<{cpp_elem(f)}>' if f.is_array else cpp_elem(f)
    if f.nullable and f.type != 'records':
        t = f'std::optional<{t}>'
    return t


def cpp_init(f):
    d = f.default
    if f.type == 'records':
        return ' = Records::Null()' if d == 'null' else ''
    if d == 'null':
        return ' = std::nullopt'
    if d is None and f.nullable:
        # Nullable fields start non-null (Kafka's default), empty.
        inner = f'std::vector<{cpp_elem(f)}>' if f.is_array else cpp_elem(f)
        return f' = {inner}{{}}'
    if d is None:
        if f.is_array or f.is_struct or f.elem in ('string', 'bytes', 'uuid'):
            return ''
        return ' = false' if f.type == 'bool' else ' = 0'
    if f.type == 'string':
        return f' = std::string({d})'
    if f.type == 'int64':
        return f' = INT64_C({d})' if int(d, 0) != -(1 << 63) else ' = INT64_MIN'
    if f.type == 'int32' and int(d, 0) == -(1 << 31):
        return ' = INT32_MIN'
    if f.type in ('uint32', 'uint16'):
        return f' = {d}u'
    return f' = {d}'


# On a lambda that decodes one element: inlined into the element loop.
INLINE = 'SLUICE_ALWAYS_INLINE'


def compact(f):
    return 'false' if f.classic else 'flexible_'


def read_elem(f, var, cur, name='nullptr'):
    """Expression decoding one non-null value of f's element type into *var
    from cursor `cur`; `name` is what its errors call it (nullptr for an
    array element, which its index names)."""
    if f.is_struct:
        return f'{f.struct.decode_fn}<flexible_>(*{var}, {cur}, version_)'
    suffix = PRIMITIVES[f.elem][1]
    if f.elem in ('string', 'bytes'):
        return f'{cur}.Read{suffix}({var}, {compact(f)}, {name})'
    return f'{cur}.Read{suffix}({var}, {name})'


def write_elem(f, val):
    if f.is_struct:
        return f'{val}.Encode(out_, version_)'
    suffix = PRIMITIVES[f.elem][1]
    if f.elem in ('string', 'bytes'):
        return f'out_.Write{suffix}({val}, {compact(f)})'
    return f'out_.Write{suffix}({val})'


def nullable_cond(f):
    return f.nullable.cond() if f.nullable else 'false'


def decode_field(f, this, cur='c_'):
    """Statements decoding field f into this + name from cursor `cur`. The
    field's name is only an argument: its reads pass it to their error paths."""
    n, c, nul, name = this + f.name, compact(f), nullable_cond(f), f'"{f.name}"'
    if f.type == 'records':
        return [f'SLUICE_RETURN_IF_ERROR({cur}.ReadRecords(&{n}, {c}, {nul}, {name}));']
    if f.is_array:
        et, minsz = (f.struct.qual if f.is_struct else cpp_elem(f)), (1 if f.is_struct else PRIMITIVES[f.elem][2])
        if f.elem in ('string', 'bytes'):
            minsz = f'({c} ? 1 : {2 if f.elem == "string" else 4})'
        lam = f'[&]({et}* e_) {INLINE} {{ return {read_elem(f, "e_", cur)}; }}'
        fn = 'ReadNullableArray' if f.nullable else 'ReadArray'
        extra = f', {nul}' if f.nullable else ''
        return [f'SLUICE_RETURN_IF_ERROR({cur}.{fn}(&{n}, {c}{extra}, {minsz}, {name}, {lam}));']
    if f.nullable and f.is_struct:
        return [f'SLUICE_RETURN_IF_ERROR({cur}.ReadNullableStruct(&{n}, {nul}, {name}, '
                f'[&]({f.struct.qual}* e_) {INLINE} {{ return {read_elem(f, "e_", cur)}; }}));']
    if f.nullable:
        return [f'SLUICE_RETURN_IF_ERROR({cur}.ReadNullable{PRIMITIVES[f.elem][1]}(&{n}, {c}, {nul}, {name}));']
    if f.is_struct:
        return [f'SLUICE_RETURN_IF_ERROR(Cursor::ReadStruct({name}, [&]() {INLINE} {{ '
                f'return {f.struct.decode_fn}<flexible_>({n}, {cur}, version_); }}));']
    return [f'SLUICE_RETURN_IF_ERROR({read_elem(f, "&" + n, cur, name)});']


FIXED_SIZES = {'int8': 1, 'int16': 2, 'int32': 4, 'int64': 8, 'uint16': 2, 'uint32': 4}


def fixed_runs(fields):
    """fields split into runs: consecutive fixed-size integers present in the
    same versions form one run; every other field is a run of its own."""
    runs = []
    for f in fields:
        fixed = f.type in FIXED_SIZES and not f.nullable
        last = runs[-1] if runs else None
        if fixed and last and last[0].type in FIXED_SIZES and not last[0].nullable \
                and last[0].versions.cond() == f.versions.cond():
            last.append(f)
        else:
            runs.append([f])
    return runs


def decode_run(run, this):
    """A run of fixed-size fields: one bounds check for all, then plain loads;
    when too few bytes remain, the fields are read one by one, so that the
    error names the one that is cut off."""
    size = sum(FIXED_SIZES[f.type] for f in run)
    out = [f'if (c_.remaining() >= {size}) [[likely]] {{']
    out += [f'  {this}{f.name} = c_.TakeUnchecked<{PRIMITIVES[f.type][0]}>();' for f in run]
    out.append('} else {')
    out += ['  ' + line for f in run for line in decode_field(f, this)]
    out.append('}')
    return out


def encode_field(f, val=None):
    n, c, nul = val or f.name, compact(f), nullable_cond(f)
    if f.type == 'records':
        return [f'out_.WriteRecords({n}, {c}, {nul});']
    if f.is_array:
        lam = f'[&](const {cpp_elem(f)}& e_) {{ {write_elem(f, "e_")}; }}'
        fn = 'WriteNullableArray' if f.nullable else 'WriteArray'
        extra = f', {nul}' if f.nullable else ''
        return [f'out_.{fn}({n}, {c}{extra}, {lam});']
    if f.nullable and f.is_struct:
        return [f'out_.WriteNullableStruct({n}, {nul}, [&](const {f.elem}& e_) {{ e_.Encode(out_, version_); }});']
    if f.nullable:
        return [f'out_.WriteNullable{PRIMITIVES[f.elem][1]}({n}, {c}, {nul});']
    return [write_elem(f, n) + ';']


def default_value(f):
    """C++ expression for f's default value."""
    init = cpp_init(f)
    return f'{cpp_type(f)}{{}}' if not init else f'{cpp_type(f)}({init[3:]})'


def is_default_expr(f):
    """C++ expression true when f holds its default value (tagged fields are then omitted)."""
    if f.type == 'records':
        return f'{f.name}.is_null()' if cpp_init(f) else f'{f.name} == Records{{}}'
    return f'{f.name} == {default_value(f)}'


class Emitter:
    def __init__(self, api):
        self.api, self.h, self.cc, self.t = api, [], [], []

    def decode_call(self, s):
        """The call of s's decoder instantiated for `version_`."""
        a, fn, args = self.api, s.decode_fn + 'From', '(*this, in_, version_)'
        if a.flexible is None or a.flexible > a.hi:
            return f'{fn}<false>{args}'
        if a.flexible <= a.lo:
            return f'{fn}<true>{args}'
        return f'version_ >= {a.flexible} ? {fn}<true>{args}\n         : {fn}<false>{args}' 

    def flexible_cond(self):
        return 'false' if self.api.flexible is None else f'version_ >= {self.api.flexible}'

    def decl_struct(self, s, indent, top=None):
        p = ' ' * indent
        out = [f'{p}struct {s.name} {{']
        if top:
            a = self.api
            if a.kind == 'api':
                out.append(f'{p}  static constexpr int16_t kApiKey = {a.key};')
            out += [f'{p}  static constexpr int16_t kMinVersion = {a.lo};',
                    f'{p}  static constexpr int16_t kMaxVersion = {a.hi};',
                    f'{p}  static constexpr int16_t kFirstFlexibleVersion = '
                    f'{-1 if a.flexible is None else a.flexible};  // -1: none',
                    f'{p}  static constexpr const char* kName = "{s.name}";', '']
            for inner in top.structs:
                out += self.decl_struct(inner, indent + 2)
                out.append('')
        for f in s.fields:
            vers = f'{f.versions.lo}+' if f.versions.hi is None else f'{f.versions.lo}-{f.versions.hi}'
            note = f'  // v{vers}' + (f', tag {f.tag}' if f.tag is not None else '') + \
                   (f', nullable v{f.nullable.lo}+' if f.nullable else '')
            out.append(f'{p}  {cpp_type(f)} {f.name}{cpp_init(f)};{note}')
        if self.api.flexible is not None:
            out.append(f'{p}  std::vector<TaggedField> unknown_tagged_fields;')
        out += ['',
                f'{p}  Status Decode(Reader& in, int16_t version);',
                f'{p}  void Encode(Writer& out, int16_t version) const;',
                f'{p}  bool operator==(const {s.name}&) const = default;',
                f'{p}}};']
        return out

    def define_struct(self, s, qual, top):
        """(free-standing decoder of the struct, member definitions)."""
        a, out = self.api, []
        plain = [f for f in s.fields if f.tag is None]
        tagged = sorted([f for f in s.fields if f.tag is not None], key=lambda f: f.tag)
        # The decoder is a function that its parent's decoder inlines (no
        # call, no Status through memory per element), down to the message's
        # Decode. The cursor it takes is that Decode's local, whose address
        # nothing out of line ever sees: its position stays in a register.
        # It is instantiated once for classic and once for flexible versions,
        # which differ in every string, array and struct: Decode decides
        # once per message instead of each field deciding again.
        this = 'm_.'
        out.append('template <bool flexible_>')
        out.append(f'SLUICE_ALWAYS_INLINE static inline Status {s.decode_fn.split("::")[1]}('
                   f'{qual}& m_, Cursor& c_, [[maybe_unused]] int16_t version_) {{')
        # Fields are overwritten or reset one by one rather than `*this = {}`,
        # so that decoding into a reused message keeps its vectors' capacity.
        if a.flexible is not None:
            out.append(f'  {this}unknown_tagged_fields.clear();')
        for f in tagged:
            out.append(f'  {this}{f.name} = {default_value(f)};')
        for run in fixed_runs(plain):
            body = decode_run(run, this) if len(run) > 1 else decode_field(run[0], this)
            out += self.guard(run[0].versions, body,
                              [f'{this}{f.name} = {default_value(f)};' for f in run])
        if a.flexible is not None:
            out.append('  if (flexible_) {')
            out.append('    // Not SLUICE_RETURN_IF_ERROR: the callback uses it (nested, it would shadow).')
            out.append(f'    Status tagged_ = c_.ReadTaggedFields(&{this}unknown_tagged_fields,')
            if tagged:
                out.append('        [&](uint32_t tag_, Cursor& field_cursor_, const char** known_) -> Status {')
                out.append('          switch (tag_) {')
                for f in tagged:
                    out.append(f'            case {f.tag}:')
                    out.append(f'              if (!({f.versions.cond()})) break;')
                    out.append(f'              *known_ = "{f.name}";')
                    for line in decode_field(f, this, 'field_cursor_'):
                        out.append(f'              {line}')
                    out.append('              return Status::Ok();')
                out.append('            default: break;')
                out.append('          }')
                out.append('          return Status::Ok();')
                out.append('        });')
            else:
                out.append('        [](uint32_t, Cursor&, const char**) { return Status::Ok(); });')
            out.append('    if (!tagged_.ok()) return tagged_;')
            out.append('  }')
        out += ['  return Status::Ok();', '}', '']
        # Decode runs it on a cursor of its own (a local: registers), one
        # function per wire format so that each is inlined into a body of its
        # own size.
        fn = s.decode_fn.split("::")[1]
        out += ['template <bool flexible_>',
                f'[[gnu::noinline]] static Status {fn}From({qual}& m_, Reader& in_, int16_t version_) {{',
                '  Cursor c_ = in_.cursor();',
                f'  Status s_ = {fn}<flexible_>(m_, c_, version_);',
                '  in_.set_cursor(c_);']
        if top:
            out += ['  // The path in an error starts with the message.',
                    f'  if (!s_.ok()) [[unlikely]] return Cursor::Nested(std::move(s_), {qual}::kName, -1);']
        out += ['  return s_;', '}', '']
        free, out = out, [f'Status {qual}::Decode(Reader& in_, int16_t version_) {{',
                          f'  return {self.decode_call(s)};', '}', '']
        out.append(f'void {qual}::Encode(Writer& out_, [[maybe_unused]] int16_t version_) const {{')
        out.append(f'  [[maybe_unused]] const bool flexible_ = {self.flexible_cond()};')
        for f in plain:
            out += self.guard(f.versions, encode_field(f))
        if a.flexible is not None:
            out.append('  if (flexible_) {')
            out.append('    uint32_t count_ = static_cast<uint32_t>(unknown_tagged_fields.size());')
            for f in tagged:
                out.append(f'    const bool has_{f.name}_ = ({f.versions.cond()}) && !({is_default_expr(f)});')
                out.append(f'    count_ += has_{f.name}_ ? 1 : 0;')
            out.append('    out_.WriteUnsignedVarint(count_);')
            out.append('    size_t next_unknown_ = 0;')
            for f in tagged:
                out.append(f'    next_unknown_ = out_.WriteUnknownTaggedFields(unknown_tagged_fields, next_unknown_, {f.tag});')
                out.append(f'    if (has_{f.name}_) {{')
                out.append(f'      out_.WriteTaggedField({f.tag}, [&] {{ {" ".join(encode_field(f))} }});')
                out.append('    }')
            out.append('    out_.WriteUnknownTaggedFields(unknown_tagged_fields, next_unknown_, UINT32_MAX);')
            out.append('  }')
        out += ['}', '']
        return free, out

    @staticmethod
    def guard(v, body, otherwise=()):
        c = v.cond()
        if c == 'true':
            return ['  ' + b for b in body]
        out = [f'  if ({c}) {{'] + ['    ' + b for b in body]
        if otherwise:
            out += ['  } else {'] + ['    ' + b for b in otherwise]
        return out + ['  }']

    def fill_struct(self, s, qual):
        """Test helper: a value valid for `version` with pseudo-random contents."""
        out = [f'void FillRandom(MessageRng& rng, [[maybe_unused]] int16_t version_, {qual}* m) {{',
               '  [[maybe_unused]] const bool flexible_ = ' + self.flexible_cond() + ';']
        for f in s.fields:
            body = []
            if f.tag is not None:
                body.append('if (rng.SetTagged()) {')
            nul = nullable_cond(f)
            if f.type == 'records':
                body.append(f'm->{f.name} = ({nul}) && rng.MakeNull() ? Records::Null() : Records::Owned(rng.RandomBytes());')
            else:
                if f.nullable:
                    body.append(f'if (({nul}) && rng.MakeNull()) {{ m->{f.name} = std::nullopt; }} else {{')
                    body.append(f'  m->{f.name}.emplace();')
                    target = f'*m->{f.name}'
                else:
                    body.append('{')
                    target = f'm->{f.name}'
                body.append(f'  auto& v = {target};')
                if f.is_array:
                    body.append('  v.resize(rng.ArrayLength());')
                    body.append('  for (auto& e_ : v) {')
                    body.append('    ' + self.fill_value(f, 'e_'))
                    body.append('  }')
                else:
                    body.append('  ' + self.fill_value(f, 'v'))
                body.append('}')
            if f.tag is not None:
                body.append('}')
            out += self.guard(f.versions, body)
        if self.api.flexible is not None:
            out.append('  if (flexible_) m->unknown_tagged_fields = rng.UnknownTaggedFields();')
        out += ['}', '']
        return out

    @staticmethod
    def fill_value(f, var):
        if f.is_struct:
            return f'FillRandom(rng, version_, &{var});'
        return f'rng.Fill(&{var});'

    def emit(self):
        a = self.api
        guard_note = f'// Generated by src/protocol/codegen/generate.py from {a.stem}.msg. Do not edit.'
        self.h += [guard_note, '#pragma once', '', '#include "protocol/wire/message_support.h"', '',
                   'namespace sluice::protocol {', '']
        self.cc += [guard_note, f'#include "protocol/generated/{a.stem}.h"', '',
                    'namespace sluice::protocol {', '']
        self.t += [guard_note, f'#include "protocol/generated/{a.stem}.h"',
                   '#include "protocol/testing/message_rng.h"', '', 'namespace sluice::protocol {', '']
        for m in a.messages:
            self.h += self.decl_struct(Struct(m.name, m.fields, m.line), 0, top=m)
            self.h.append('')
            self.t.append(f'void FillRandom(MessageRng& rng, int16_t version, {m.name}* m);')
            # The decoders (the message's and its nested structs') live in a
            # namespace of their own, where the struct names the field types
            # use resolve as they do inside the message.
            ns = f'{m.name}Decoders'
            top = Struct(m.name, m.fields, m.line)
            top.qual, top.decode_fn = m.name, f'{ns}::Decode{m.name}'
            for s in m.structs:
                s.qual, s.decode_fn = f'{m.name}::{s.name}', f'{ns}::Decode{s.name}'
            members = []
            self.cc += [f'namespace {ns} {{', '']
            self.cc += [f'using {s.name} = {s.qual};' for s in m.structs] + ['']
            for s in m.structs + [top]:
                free, defs = self.define_struct(s, s.qual, s is top)
                self.cc += free
                members += defs
            self.cc += [f'}}  // namespace {ns}', '']
            for s in m.structs:
                self.t.append(f'void FillRandom(MessageRng& rng, int16_t version, {m.name}::{s.name}* m);')
            self.cc += members
        self.t.append('')
        for m in a.messages:
            for s in m.structs:
                self.t += self.fill_struct(s, f'{m.name}::{s.name}')
            self.t += self.fill_struct(Struct(m.name, m.fields, m.line), m.name)
        for part in (self.h, self.cc, self.t):
            part += ['}  // namespace sluice::protocol', '']


def emit_index(apis):
    """api_registry.cc (the key -> versions table) and all_messages.h (compile-time visitors)."""
    note = '// Generated by src/protocol/codegen/generate.py. Do not edit.'
    table = sorted((a for a in apis if a.kind == 'api'), key=lambda a: a.key)
    reg = [note, '#include "protocol/api_registry.h"', '', 'namespace sluice::protocol {', '',
           'namespace {', 'constexpr ApiInfo kApis[] = {']
    def info(a):  # One ApiInfo initializer.
        return f'    {{{a.key}, "{a.name}", {a.lo}, {a.hi}, {-1 if a.flexible is None else a.flexible}}},'
    for a in table:
        reg.append(info(a))
    reg += ['};', '}  // namespace', '', 'std::span<const ApiInfo> AllApis() { return kApis; }', '']
    # The table FindApi indexes by key: constant data, no lookup at run time.
    max_key = max(a.key for a in table)
    by_key = {a.key: a for a in table}
    reg += ['namespace detail {', '',
            f'extern const int16_t kMaxApiKey = {max_key};',
            'const ApiInfo kApiByKey[] = {']
    for k in range(max_key + 1):
        a = by_key.get(k)
        reg.append(info(a) if a else '    {-1, nullptr, 0, -1, -1},')
    reg += ['};', '', '}  // namespace detail', '', '}  // namespace sluice::protocol', '']
    hdr = [note, '#pragma once', '', '#include <cstdint>', '']
    hdr += [f'#include "protocol/generated/{a.stem}.h"' for a in sorted(apis, key=lambda a: a.stem)]
    hdr += ['', 'namespace sluice::protocol {', '',
            '// Calls f.template operator()<Request, Response>() for every API.',
            'template <typename F>', 'void ForEachApi(F&& f) {']
    hdr += [f'  f.template operator()<{a.name}Request, {a.name}Response>();' for a in table]
    hdr += ['}', '', '// Calls f.template operator()<Request, Response>() for the API `key`;',
            '// returns false (without calling f) for an unknown key.',
            'template <typename F>', 'bool VisitApi(int16_t key, F&& f) {', '  switch (key) {']
    for a in table:
        hdr.append(f'    case {a.key}: f.template operator()<{a.name}Request, {a.name}Response>(); return true;')
    hdr += ['    default: return false;', '  }', '}', '', '}  // namespace sluice::protocol', '']
    fill = [note, '#pragma once', '', '#include "protocol/generated/all_messages.h"',
            '#include "protocol/testing/message_rng.h"', '', 'namespace sluice::protocol {', '']
    for a in sorted(apis, key=lambda a: a.stem):
        fill += [f'void FillRandom(MessageRng& rng, int16_t version, {m.name}* m);' for m in a.messages]
    fill += ['', '}  // namespace sluice::protocol', '']
    return reg, hdr, fill


def write_if_changed(path, lines):
    text = '\n'.join(lines)
    if os.path.exists(path):
        with open(path) as fh:
            if fh.read() == text:
                return
    tmp = path + '.tmp'
    with open(tmp, 'w') as fh:
        fh.write(text)
    os.replace(tmp, path)


def main(argv):
    if len(argv) < 2:
        print('usage: generate.py <out_dir> <file.msg>...', file=sys.stderr)
        return 2
    out_dir = os.path.join(argv[0], 'protocol', 'generated')
    os.makedirs(out_dir, exist_ok=True)
    apis, errors, keys, names = [], [], {}, {}
    for path in argv[1:]:
        try:
            with open(path) as fh:
                api = Parser(path).parse(fh.read())
            if api.kind == 'api':
                if api.key in keys:
                    raise MsgError(path, 1, f'api key {api.key} already used by {keys[api.key]}')
                keys[api.key] = path
            if api.name in names:
                raise MsgError(path, 1, f'name {api.name} already used by {names[api.name]}')
            names[api.name] = path
            apis.append(api)
        except MsgError as e:
            errors.append(str(e))
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        print(f'generate.py: {len(errors)} malformed message definition(s); see '
              'src/protocol/messages/FORMAT.md', file=sys.stderr)
        return 1
    for api in apis:
        e = Emitter(api)
        e.emit()
        write_if_changed(os.path.join(out_dir, api.stem + '.h'), e.h)
        write_if_changed(os.path.join(out_dir, api.stem + '.cc'), e.cc)
        write_if_changed(os.path.join(out_dir, api.stem + '_testing.cc'), e.t)
    reg, hdr, fill = emit_index(apis)
    write_if_changed(os.path.join(out_dir, 'fill_random.h'), fill)
    write_if_changed(os.path.join(out_dir, 'api_registry.cc'), reg)
    write_if_changed(os.path.join(out_dir, 'all_messages.h'), hdr)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
