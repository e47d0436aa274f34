"""Trading: continuous order book, sealed-bid auctions, replay of order streams."""
