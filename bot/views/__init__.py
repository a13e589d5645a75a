"""What gathers a card's data from the store, for the cards to draw."""
