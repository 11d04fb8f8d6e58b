#!/usr/bin/env python3
"""The generator's contract with .msg authors: a malformed definition fails
with `<file>:<line>: error: ...`, a good one generates, unchanged output is
not rewritten. usage: generate_test.py <path/to/generate.py>"""
import os
import subprocess
import sys
import tempfile
import unittest

GENERATE = sys.argv.pop(1) if len(sys.argv) > 1 else None

GOOD = """# A test API.
api Thing key 900 versions 0-3 flexible 2+

request
  name          string
  items         []Item        1+
    id          int32
    label       string?       default null
  hint          int64         2+   tag 0 default -1

response
  error_code    int16
  holder        Holder        3+
    count       int32
"""


def run(files):
    out = tempfile.mkdtemp()
    p = subprocess.run([sys.executable, GENERATE, out] + files, capture_output=True, text=True)
    return p.returncode, p.stderr, out


class GenerateTest(unittest.TestCase):
    def write(self, text, name='thing.msg'):
        d = tempfile.mkdtemp()
        path = os.path.join(d, name)
        with open(path, 'w') as fh:
            fh.write(text)
        return path

    def expect_error(self, text, line, fragment):
        path = self.write(text)
        rc, err, _ = run([path])
        self.assertEqual(rc, 1, err)
        self.assertIn(f'{path}:{line}: error:', err)
        self.assertIn(fragment, err)

    def test_good_file_generates(self):
        rc, err, out = run([self.write(GOOD)])
        self.assertEqual(rc, 0, err)
        gen = os.path.join(out, 'protocol', 'generated')
        for f in ('thing.h', 'thing.cc', 'thing_testing.cc', 'api_registry.cc', 'all_messages.h'):
            self.assertTrue(os.path.exists(os.path.join(gen, f)), f)

    def test_unchanged_output_is_not_rewritten(self):
        path = self.write(GOOD)
        out = tempfile.mkdtemp()
        subprocess.run([sys.executable, GENERATE, out, path], check=True)
        h = os.path.join(out, 'protocol', 'generated', 'thing.h')
        os.utime(h, (1, 1))
        subprocess.run([sys.executable, GENERATE, out, path], check=True)
        self.assertEqual(os.stat(h).st_mtime, 1)

    def test_errors_name_file_and_line(self):
        bad_type = GOOD.replace('id          int32', 'id          int33')
        self.expect_error(bad_type, 7, 'unknown type "int33"')
        self.expect_error(GOOD.replace('    id ', '   id '), 7, 'not a multiple of two')
        self.expect_error(GOOD.replace('2+   tag 0', '0+   tag 0'), 9, 'flexible versions')
        self.expect_error(GOOD.replace('error_code    int16', 'error_code    int16 nullable 1+'),
                          12, 'cannot be nullable')
        self.expect_error(GOOD.replace('versions 0-3', 'versions 3-1'), 2, 'empty version range')
        self.expect_error(GOOD.replace('  name ', '  Name '), 5, 'snake_case')
        self.expect_error(GOOD.replace('  name ', '  default '), 5, 'reserved')
        self.expect_error(GOOD.replace('default -1', 'default x'), 9, 'not a number')
        self.expect_error(GOOD.replace('label       string?       default null',
                                       'label       string        default null'), 8, 'never nullable')
        self.expect_error(GOOD + '  error_code  int16\n', 15, 'duplicate field')

    def test_nesting_is_capped(self):
        # Decoders recurse once per level of the definitions; no input can
        # make them go deeper, so the cap is on the definitions.
        def nested(levels):
            body = ''.join(f'{"  " * (i + 1)}l{i}  []L{i}\n' for i in range(levels))
            return f'api Deep key 901 versions 0-0 flexible none\n\nrequest\n{body}{"  " * (levels + 1)}leaf  int8\n\nresponse\n  error_code  int16\n'
        rc, err, _ = run([self.write(nested(7))])
        self.assertEqual(rc, 0, err)
        self.expect_error(nested(8), 12, 'nest deeper than 8 levels')
        self.expect_error(GOOD.replace('holder        Holder', 'holder        Holdr').replace(
            '    count       int32\n', ''), 13, 'no fields')
        self.expect_error(GOOD.replace('\nresponse\n', '\nresp\n'), 11, 'expected "request"')

    def test_every_bad_file_is_reported(self):
        a = self.write(GOOD.replace('int32', 'int33', 1), 'a.msg')
        b = self.write(GOOD.replace('key 900', 'key nine'), 'b.msg')
        rc, err, _ = run([a, b])
        self.assertEqual(rc, 1)
        self.assertIn(f'{a}:7:', err)
        self.assertIn(f'{b}:2:', err)

    def test_duplicate_api_key(self):
        a = self.write(GOOD, 'a.msg')
        b = self.write(GOOD.replace('api Thing', 'api Other'), 'b.msg')
        rc, err, _ = run([a, b])
        self.assertEqual(rc, 1)
        self.assertIn('api key 900 already used', err)


if __name__ == '__main__':
    unittest.main()
