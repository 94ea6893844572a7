"""Pure mapping between LangChain objects and the router's wire format. No I/O lives here."""
