"""Who the customers are: KMeans portraits with readable names, and RFM segments."""
