"""Small export files in the real formats (FORMATS.md §2), built byte for byte as the exporters write them."""

from __future__ import annotations

import io

import openpyxl

LEGACY_HEADER = (
    '"订单编号","买家会员名","买家支付宝账号","买家应付货款","买家应付邮费","买家支付积分","总金额","返点积分",'
    '"买家实际支付金额","买家实际支付积分","订单状态","买家留言","收货人姓名","收货地址 ","运送方式","联系电话 ",'
    '"联系手机","订单创建时间","订单付款时间 ","宝贝标题 ","宝贝种类 ","物流单号 ","物流公司","订单备注",'
    '"宝贝总数量","店铺Id","店铺名称","订单关闭原因","退款金额"'
)


def legacy_row(
    order_no: str,
    *,
    nick: str = "tb0000001",
    status: str = "买家已付款，等待卖家发货",
    paid: str = "201.12",
    created: str = "2017-07-08 00:42:32",
    address: str = "广东省 广州市 越秀区 某某路1号(510000)",
    memo: str = "",
    refund: str = "0.00",
) -> str:
    return (
        f'="{order_no}","{nick}","buyer@example.com","{paid}","0.00","0","{paid}","0","{paid}","0","{status}","",'
        f'"王某","{address}","快递","","\'13800000000","{created}","2017-07-08 00:42:39","【顺丰包邮】某某雪平锅","1",'
        f'"","","{memo}","1","0","某某海外生活","订单未关闭","{refund}"'
    )


def legacy_csv(rows: list[str], encoding: str = "gbk") -> bytes:
    return ("\r\n".join([LEGACY_HEADER, *rows]) + "\r\n").encode(encoding)


DETAIL_HEADER = '"订单编号","标题","价格","购买数量","外部系统编号","商品属性","套餐信息","备注","订单状态","商家编码"'


def detail_csv(rows: list[str]) -> bytes:
    return ("\r\n".join([DETAIL_HEADER, *rows]) + "\r\n").encode("gbk")


SUBORDER_HEADER = [
    "子订单编号",
    "主订单编号",
    "商品标题",
    "商品价格",
    "购买数量",
    "外部系统编号",
    "商品属性",
    "订单状态",
    "商家编码",
    "买家应付货款",
    "买家实付金额",
    "退款状态",
    "退款金额",
    "订单创建时间",
    "订单付款时间",
    "商品ID",
    "发货时间",
]


def suborder_xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "订单"
    ws.append(SUBORDER_HEADER)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
