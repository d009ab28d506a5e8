#!/usr/bin/python3
"""Normalise a status page (php-fpm's or fpmd's) for t/status.bats.

Usage: statusnorm.py FORMAT [--php-fpm] [--drop-fpmd-extras] < BODY

FORMAT is text, json, xml, html or openmetrics.  Names, their order and
the syntax around them are kept; every value is masked (a JSON string as
S, a JSON integer as N, a JSON fraction as F, anything else as V), so two
servers with different numbers give the same text, and any difference in
a name, its spelling, its place or its punctuation shows.

OpenMetrics: --php-fpm renames the samples of php-fpm's counters to
NAME_total, the one difference fpmd has on purpose there (php-fpm's own
page fails a strict OpenMetrics parser without it); --drop-fpmd-extras
drops the phpfpm_process_* families fpmd adds with full.
"""
import re
import sys


def text(s, _opts):
    out = []
    for line in s.split('\n'):
        m = re.match(r'^([A-Za-z ]+:)( +)(.*)$', line)
        out.append(m.group(1) + m.group(2) + 'V' if m else line)
    return '\n'.join(out)


def json_(s, _opts):
    s = re.sub(r':"(?:[^"\\]|\\.)*"', ':S', s)
    s = re.sub(r':-?[0-9]+\.[0-9]+', ':F', s)
    return re.sub(r':-?[0-9]+', ':N', s)


def xml(s, _opts):
    return re.sub(r'>[^<>]*</', '>V</', s)


def html(s, _opts):
    return re.sub(r'<td>[^<>]*</td>', '<td>V</td>', s)


def openmetrics(s, opts):
    counters = set()
    out = []
    for line in s.split('\n'):
        m = re.match(r'^# (HELP|TYPE|UNIT) (\S+)', line)
        name = m.group(2) if m else re.match(r'^[^{ ]*', line).group(0)
        if '--drop-fpmd-extras' in opts and \
                name.startswith('phpfpm_process_'):
            continue
        if m:
            if m.group(1) == 'TYPE' and line.endswith(' counter'):
                counters.add(name)
            out.append(line)
            continue
        if line == '' or line.startswith('#'):
            out.append(line)
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$', line)
        if not m:
            out.append('UNPARSED ' + line)
            continue
        name, labels = m.group(1), m.group(2) or ''
        if '--php-fpm' in opts and name in counters:
            name += '_total'
        labels = re.sub(r'="(?:[^"\\]|\\.)*"', '="V"', labels)
        out.append(name + labels + ' V')
    return '\n'.join(out)


FORMATS = {'text': text, 'json': json_, 'xml': xml, 'html': html,
           'openmetrics': openmetrics}

if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] not in FORMATS:
        sys.exit(__doc__)
    sys.stdout.write(FORMATS[sys.argv[1]](sys.stdin.read(), sys.argv[2:]))
