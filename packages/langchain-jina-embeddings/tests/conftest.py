"""Test setup for the LangChain adapter (markers langchain_tests uses are registered in the root pyproject)."""
