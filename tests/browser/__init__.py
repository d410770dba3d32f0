# A package, so this directory's conftest is imported as `browser.conftest` and does not
# take the module name `conftest` that tests do `from conftest import ...` with.
