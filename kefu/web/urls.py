from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/remark/", views.order_remark, name="order_remark"),
    path("orders/<int:order_id>/chase/", views.order_chase, name="order_chase"),
    path("customers/", views.customers, name="customers"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("products/", views.products, name="products"),
    path("products/<int:product_id>/", views.product_detail, name="product_detail"),
    path("shops/", views.shops, name="shops"),
    path("shops/<int:shop_id>/", views.shop_detail, name="shop_detail"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:team_id>/", views.team_detail, name="team_detail"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:staff_id>/", views.staff_detail, name="staff_detail"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:run_id>/", views.import_detail, name="import_detail"),
    path("policy/", views.policy, name="policy"),
    path("policy/new/", views.policy_new, name="policy_new"),
    path("audit/", views.audit, name="audit"),
    path("tokens/", views.tokens, name="tokens"),
]
