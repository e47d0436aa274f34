"""Trading: the continuous order book (pure core, `book`), its service with ledger holds and
atomic settlement (`service`, one order per transaction; `pipeline`, many orders of a market
per transaction: group commit), reserve auctions (`auction` core, `auction_service`),
listings (`listing_service`), negotiated transfers (`transfer_service`) and replay of order
streams (`replay`)."""
