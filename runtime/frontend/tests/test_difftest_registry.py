# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The differential suite's case registry: only functions of the client are run as cases.

A function registered by mistake (a helper under a stray @case) would raise the same TypeError in both modes, and two
equal error records would pass the comparison without anything being tested.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FRONTEND = os.path.dirname(HERE)
sys.path.insert(0, FRONTEND)
sys.path.insert(0, os.path.join(FRONTEND, 'difftests'))

import difftest  # noqa: E402
from difftest_common import CASES, case  # noqa: E402


class CaseRegistryTests(unittest.TestCase):
    def test_a_helper_taking_other_arguments_is_refused_at_registration(self):
        def make_body(n, seed):
            return b''
        before = len(CASES)
        with self.assertRaisesRegex(TypeError, r'make_body must take \(s3\), not \(n, seed\)'):
            case(make_body)
        self.assertEqual(before, len(CASES))

    def test_the_suite_registers_its_cases_once_each_from_every_family(self):
        names = [fn.__name__ for fn in CASES]
        self.assertEqual(len(names), len(set(names)))
        families = {fn.__module__.rsplit('.', 1)[-1] for fn in CASES}
        self.assertEqual(set(difftest.CASE_MODULES), families)


if __name__ == '__main__':
    unittest.main()
