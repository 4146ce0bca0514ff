"""boxoffice: change-data-capture analytics for a live ticketing database."""
