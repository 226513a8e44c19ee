from gridcare.core.admin_tools import register_all

register_all("billing", read_only=("TicketEvent", "OutageUpdate", "Delivery", "SmsMessage", "ComplaintFact", "StageFact",
                              "OrderDaily"))
