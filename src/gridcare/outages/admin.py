from gridcare.core.admin_tools import register_all

register_all("outages", read_only=("TicketEvent", "OutageUpdate", "Delivery", "SmsMessage", "ComplaintFact", "StageFact",
                              "OrderDaily"))
