"""Pure computation and checks: declaration rules, rates lookup, contributions, payslips. No I/O."""
